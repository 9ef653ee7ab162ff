"""The ``attendance`` application attribute: punch confirmations from the Attendance account."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, is_number
from messaging.registry import AppHandler

from .models import Punch


class AttendanceHandler(AppHandler):
    app = "attendance"
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
