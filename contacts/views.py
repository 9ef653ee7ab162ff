"""The people page: my contacts by department, the company directory, friend requests."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError

from . import selectors, services
from .models import FriendRequest


def _by_department(cards: list[dict]) -> list[tuple[str, list[dict]]]:
    def department_name(card):
        return card["department"]["name"] if card["department"] else _("No department")

    ordered = sorted(cards, key=lambda c: (department_name(c), not c["is_manager"], c["display_name"]))
    return [(name, list(group)) for name, group in groupby(ordered, key=department_name)]


@login_required
def people(request):
    user = request.user
    query = request.GET.get("q", "").strip()[:200]
    contacts = [selectors.person_card(p) for p in selectors.contact_list_for_user(user=user)]
    results = (
        [selectors.person_card(p) for p in selectors.directory_search(user=user, query=query)[:50]]
        if query
        else None
    )
    requests = selectors.friend_request_list_for_user(user=user)
    pending = FriendRequest.Status.PENDING
    return render(
        request,
        "contacts/people.html",
        {
            "query": query,
            "groups": _by_department(contacts),
            "contact_ids": {c["id"] for c in contacts},
            "results": results,
            "incoming": requests["incoming"].filter(status=pending),
            "outgoing": requests["outgoing"].filter(status=pending),
        },
    )


@login_required
@require_POST
def friend_request_send(request):
    try:
        to_user_id = int(request.POST.get("to", ""))
    except ValueError:
        to_user_id = 0
    try:
        friend_request = services.friend_request_send(
            from_user=request.user, to_user_id=to_user_id, message=request.POST.get("message", "")[:500]
        )
    except ApplicationError as error:
        messages.error(request, error.detail)
    else:
        if friend_request.status == FriendRequest.Status.ACCEPTED:
            messages.success(request, _("You and %(name)s are now friends.") % {"name": friend_request.from_user.name})
        else:
            messages.success(request, _("Friend request sent to %(name)s.") % {"name": friend_request.to_user.name})
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("contacts:people")


@login_required
@require_POST
def friend_request_answer(request, request_id: int, answer: str):
    actions = {"accept": services.friend_request_accept, "decline": services.friend_request_decline}
    if answer not in actions:
        raise Http404
    try:
        friend_request = actions[answer](user=request.user, request_id=request_id)
    except ApplicationError as error:
        messages.error(request, error.detail)
    else:
        if friend_request.status == FriendRequest.Status.ACCEPTED:
            messages.success(request, _("%(name)s is now one of your contacts.") % {"name": friend_request.from_user.name})
        else:
            messages.info(request, _("Friend request from %(name)s declined.") % {"name": friend_request.from_user.name})
    return redirect("contacts:people")
