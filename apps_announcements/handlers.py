"""The ``announcement`` application attribute."""

from __future__ import annotations

from html import unescape
from typing import Any

from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import ApplicationError, is_number
from messaging.registry import AppHandler

from .models import Announcement


class AnnouncementHandler(AppHandler):
    app = "announcement"
    label = pgettext_lazy("message kind", "Announcement")
    chat_banner = "apps_announcements/pinned_banner.html"
    chat_include = "apps_announcements/chat_include.html"
    # Announcements are delivered by their own workflow, never sent or edited by clients.
    client_sendable = False
    editable = False

    def clean(self, body: dict[str, Any], *, sender, conversation) -> dict[str, Any]:
        announcement_id = body.get("announcement")
        announcement = Announcement.objects.filter(pk=announcement_id).first() if is_number(announcement_id) else None
        if announcement is None:
            raise ApplicationError(_("An announcement message names an announcement."), code="invalid")
        return {
            "announcement": announcement.pk,
            "title": announcement.title,
            "html": announcement.body_html,
            "pinned": announcement.pinned,
            "requires_confirmation": announcement.requires_confirmation,
            "expires_at": announcement.expires_at.isoformat() if announcement.expires_at else None,
            # Sent again to those who have not confirmed (or read) it yet.
            "reminder": body.get("reminder") is True,
        }

    def action_url(self, body: dict[str, Any]) -> str | None:
        """An announcement that asks its readers to confirm opens its page, where they do."""
        if body.get("requires_confirmation") is True and is_number(body.get("announcement")):
            return reverse("announcements:detail", args=[body["announcement"]])
        return None

    def search_text(self, body: dict[str, Any]) -> str:
        """The announcement's title, then its text as readers see it."""
        title = body.get("title") if isinstance(body.get("title"), str) else ""
        html = body.get("html") if isinstance(body.get("html"), str) else ""
        return "\n".join(part for part in (title.strip(), unescape(strip_tags(html)).strip()) if part)
