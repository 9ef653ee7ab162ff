"""The ``notice`` application attribute: a notification an integration (the HR system) sent."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import ApplicationError, is_number
from messaging.registry import AppHandler

from .models import Notification


class NoticeHandler(AppHandler):
    app = "notice"
    label = pgettext_lazy("message kind", "Notice")
    chat_include = "integrations/chat_include.html"
    client_sendable = False
    editable = False

    def clean(self, body: dict[str, Any], *, sender, conversation) -> dict[str, Any]:
        notification_id = body.get("notification")
        notification = (
            Notification.objects.select_related("client__application").filter(pk=notification_id).first()
            if is_number(notification_id)
            else None
        )
        if notification is None:
            raise ApplicationError(_("A notice names a notification."), code="invalid")
        return {
            "notification": notification.pk,
            "from": notification.client.application.name,
            "title": notification.title,
            "text": notification.text,
            "link": notification.link,
        }
