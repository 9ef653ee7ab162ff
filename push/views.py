from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError

from . import selectors, services


def settings_section(request) -> dict:
    """The settings page's Notifications section: this person's devices."""
    return {"devices": list(selectors.subscription_list_for_user(user=request.user))}


@login_required
@require_POST
def device_remove(request, subscription_id: int):
    try:
        services.subscription_delete(user=request.user, subscription_id=subscription_id)
    except ApplicationError:
        raise Http404 from None
    messages.success(request, _("The device gets no more notifications."))
    return redirect("account-settings")
