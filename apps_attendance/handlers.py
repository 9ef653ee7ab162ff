"""The ``attendance`` application attribute: punch confirmations from the Attendance account."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import ApplicationError, is_number
from messaging.registry import AppHandler, default_preview

from .models import Punch


class AttendanceHandler(AppHandler):
    app = "attendance"
    label = pgettext_lazy("message kind", "Attendance")
    # Today's schedule and a Check in / Check out button above the chat.
    chat_banner = "apps_attendance/chat_banner.html"
    chat_include = "apps_attendance/chat_include.html"
    client_sendable = False
    editable = False

    def clean(self, body: dict[str, Any], *, sender, conversation) -> dict[str, Any]:
        if body.get("reminder") == "check_in":
            start = str(body.get("start", ""))[:5]
            return {
                "reminder": "check_in",
                "date": str(body.get("date", ""))[:10],
                "start": start,
                "text": _("You have not checked in yet today; work started at %(time)s.") % {"time": start},
            }
        punch_id = body.get("punch")
        punch = Punch.objects.filter(pk=punch_id).first() if is_number(punch_id) else None
        if punch is None:
            raise ApplicationError(_("An attendance message names a punch."), code="invalid")
        return {
            "punch": punch.pk,
            "kind": punch.kind,
            "at": timezone.localtime(punch.at).isoformat(),
            "text": _("Checked in at %(time)s") % {"time": f"{timezone.localtime(punch.at):%H:%M}"}
            if punch.kind == Punch.Kind.CHECK_IN
            else _("Checked out at %(time)s") % {"time": f"{timezone.localtime(punch.at):%H:%M}"},
        }

    def preview_text(self, body: dict[str, Any]) -> str:
        """The text in the reader's language, made again from the punch's kind and time
        (or the reminder's start): the stored ``text`` is in the language of the moment it
        was sent."""
        return default_preview(self.label, {"text": attendance_text(body)})


def attendance_text(body: dict[str, Any]) -> str:
    if body.get("reminder") == "check_in":
        start = str(body.get("start", ""))[:5]
        return _("You have not checked in yet today; work started at %(time)s.") % {"time": start}
    at = str(body.get("at", ""))
    time = at[11:16] if len(at) >= 16 and at[10] == "T" else ""
    if not time:
        text = body.get("text")
        return text if isinstance(text, str) else ""
    if body.get("kind") == Punch.Kind.CHECK_OUT:
        return _("Checked out at %(time)s") % {"time": time}
    return _("Checked in at %(time)s") % {"time": time}
