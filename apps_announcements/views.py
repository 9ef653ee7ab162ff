"""Announcement pages: the list, writing one, the page of one (opening it marks it read)
and its author's stats with "remind the rest" and a CSV export. Thin: reads go through
selectors, writes through the same services as the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.exports import csv_response

from . import selectors, services
from .models import Announcement

BOXES = [
    ("received", gettext_lazy("Received")),
    ("written", gettext_lazy("Written by me")),
]
PAGE_SIZE = 25
FORM_FIELDS = ("title", "body", "audience", "expires_at")


def _audience_label(audience: dict) -> str:
    if audience.get("everyone"):
        return _("Everyone")
    return ", ".join(selectors.audience_department_names(audience))


def _expired(announcement: Announcement, now: datetime | None = None) -> bool:
    return announcement.expires_at is not None and announcement.expires_at <= (now or timezone.now())


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


# ---------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------
@login_required
def announcement_list(request):
    may_announce = selectors.may_announce(request.user)
    box = request.GET.get("box", "received")
    if box not in dict(BOXES):
        box = "received"
    if box == "written":
        announcements = selectors.announcement_list_written(user=request.user)
    else:
        announcements = selectors.announcement_list_received(user=request.user)
    page = Paginator(announcements, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for announcement in page:
        announcement.expired = _expired(announcement, now)
        if box == "written":
            announcement.read_percent = _percent(announcement.read_count, announcement.delivered_count)
    return render(
        request,
        "apps_announcements/list.html",
        {
            "box": box,
            "boxes": BOXES,
            "page": page,
            "may_announce": may_announce,
            "show_written": may_announce or box == "written" or selectors.announcement_list_written(user=request.user).exists(),
        },
    )


# ---------------------------------------------------------------------------------------
# Writing one
# ---------------------------------------------------------------------------------------
def _expiry_from_form(value: str) -> str | None:
    """``<input type="datetime-local">`` gives local wall time; the service reads it in the
    company's time zone."""
    return value.strip() or None


@login_required
def announcement_new(request):
    if not selectors.may_announce(request.user):
        messages.error(request, _("Only HR, the President's Office and department managers can make announcements."))
        return redirect("announcements:list")
    to_everyone = selectors.may_announce_to_everyone(request.user)
    departments = list(selectors.departments_user_may_address(request.user).order_by("path"))
    values = {
        "title": "",
        "body": "",
        "audience": "everyone" if to_everyone else "departments",
        "departments": [],
        "pinned": False,
        "requires_confirmation": False,
        "expires_at": "",
    }
    errors: dict[str, str] = {}
    client_id = uuid.uuid4().hex
    status = 200
    if request.method == "POST":
        post = request.POST
        client_id = post.get("client_id", "")
        values = {
            "title": post.get("title", ""),
            "body": post.get("body", ""),
            "audience": "everyone" if post.get("audience") == "everyone" else "departments",
            "departments": post.getlist("departments"),
            "pinned": bool(post.get("pinned")),
            "requires_confirmation": bool(post.get("requires_confirmation")),
            "expires_at": post.get("expires_at", ""),
        }
        audience = (
            {"everyone": True} if values["audience"] == "everyone" else {"departments": values["departments"]}
        )
        try:
            if not audience.get("everyone") and not values["departments"]:
                raise ApplicationError(
                    _("Choose at least one department."), code="invalid_field", extra={"field": "audience"}
                )
            announcement, created = services.announcement_publish(
                author=request.user,
                title=values["title"],
                body=values["body"],
                audience=audience,
                client_id=client_id,
                pinned=values["pinned"],
                requires_confirmation=values["requires_confirmation"],
                expires_at=_expiry_from_form(values["expires_at"]),
            )
        except ApplicationError as error:
            field = error.extra.get("field")
            if field in FORM_FIELDS:
                errors[field] = error.detail
            messages.error(request, error.detail)
            status = 403 if error.code == "not_permitted" else 400
        else:
            if created:
                messages.success(request, _("Your announcement is on its way."))
            else:
                messages.info(request, _("This announcement had already been published."))
            return redirect("announcements:detail", announcement_id=announcement.pk)
    return render(
        request,
        "apps_announcements/form.html",
        {
            "values": values,
            "errors": errors,
            "client_id": client_id,
            "to_everyone": to_everyone,
            "departments": departments,
            "min_expiry": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------
# One announcement
# ---------------------------------------------------------------------------------------
def _announcement_or_redirect(request, announcement_id: int) -> Announcement | None:
    try:
        return selectors.announcement_get_for_user(user=request.user, announcement_id=announcement_id)
    except ApplicationError as error:
        messages.error(request, error.detail)
        return None


@login_required
def announcement_detail(request, announcement_id: int):
    announcement = _announcement_or_redirect(request, announcement_id)
    if announcement is None:
        return redirect("announcements:list")
    receipt = selectors.receipt_for(user=request.user, announcement=announcement)
    if receipt is not None and receipt.read_at is None:
        # Opening the page is reading it, as seeing the card in the chat is.
        receipt = services.announcement_mark_read(user=request.user, announcement_id=announcement.pk)
    return render(
        request,
        "apps_announcements/detail.html",
        {
            "announcement": announcement,
            "receipt": receipt,
            "audience_label": _audience_label(announcement.audience),
            "may_see_stats": selectors.may_see_receipts(user=request.user, announcement=announcement),
            "expired": _expired(announcement),
        },
    )


@login_required
@require_POST
def announcement_confirm(request, announcement_id: int):
    try:
        services.announcement_confirm(user=request.user, announcement_id=announcement_id)
    except ApplicationError as error:
        messages.error(request, error.detail)
        if error.code == "not_found":
            return redirect("announcements:list")
    else:
        messages.success(request, _("Thank you: you confirmed that you have read this announcement."))
    return redirect("announcements:detail", announcement_id=announcement_id)


# ---------------------------------------------------------------------------------------
# Stats, reminders and the export: the author and administrators
# ---------------------------------------------------------------------------------------
def _receipts_refused(request, error: ApplicationError, announcement_id: int):
    messages.error(request, error.detail)
    if error.code == "not_permitted":
        return redirect("announcements:detail", announcement_id=announcement_id)
    return redirect("announcements:list")


def _chart(stats: dict, requires_confirmation: bool) -> list[dict]:
    """Bars of the chart, each a share of the audience reached."""
    whole = stats["delivered"]
    bars = [
        {"key": "delivered", "label": _("Delivered"), "value": stats["delivered"], "whole": stats["audience"]},
        {"key": "read", "label": _("Read"), "value": stats["read"], "whole": whole},
    ]
    if requires_confirmation:
        bars.append({"key": "confirmed", "label": _("Confirmed"), "value": stats["confirmed"], "whole": whole})
    for i, bar in enumerate(bars):
        bar["percent"] = _percent(bar["value"], bar["whole"])
        bar["y"] = i * 44
    return bars


@login_required
def announcement_stats(request, announcement_id: int):
    try:
        announcement = selectors.access_announcement_receipts(user=request.user, announcement_id=announcement_id)
        stats = selectors.announcement_stats(user=request.user, announcement_id=announcement_id)
    except ApplicationError as error:
        return _receipts_refused(request, error, announcement_id)
    bars = _chart(stats, announcement.requires_confirmation)
    return render(
        request,
        "apps_announcements/stats.html",
        {
            "announcement": announcement,
            "stats": stats,
            "bars": bars,
            "chart_height": len(bars) * 44,
            "audience_label": _audience_label(announcement.audience),
            "pending": stats["unconfirmed_users"] if announcement.requires_confirmation else stats["unread_users"],
            "expired": _expired(announcement),
            "run_id": uuid.uuid4().hex[:16],
        },
    )


@login_required
@require_POST
def announcement_remind(request, announcement_id: int):
    try:
        count = services.announcement_remind_unconfirmed(
            user=request.user, announcement_id=announcement_id, run_id=request.POST.get("run_id")
        )
    except ApplicationError as error:
        if error.code == "conflict":
            messages.error(request, error.detail)
            return redirect("announcements:stats", announcement_id=announcement_id)
        return _receipts_refused(request, error, announcement_id)
    if count:
        messages.success(
            request,
            ngettext("A reminder is on its way to %(count)d person.", "A reminder is on its way to %(count)d people.", count)
            % {"count": count},
        )
    else:
        messages.info(request, _("There is nobody left to remind."))
    return redirect("announcements:stats", announcement_id=announcement_id)


@login_required
def announcement_stats_csv(request, announcement_id: int):
    try:
        announcement, rows = selectors.announcement_receipts_export(user=request.user, announcement_id=announcement_id)
    except ApplicationError as error:
        return _receipts_refused(request, error, announcement_id)
    return csv_response(
        filename=f"announcement-{announcement.pk}-receipts.csv",
        header=["username", "display_name", "department", "delivered", "read_at", "confirmed_at"],
        rows=rows,
    )
