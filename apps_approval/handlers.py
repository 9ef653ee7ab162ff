"""The ``approval`` application attribute: cards that travel in ordinary messages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import ApplicationError, is_number, json_strings
from messaging.registry import AppHandler, default_preview
from messaging.selectors import conversation_member_ids

from .builtin import builtin_text
from .models import Approval, ApprovalTemplate, StepApprover

EVENTS = {
    "review", "progress", "approved", "rejected", "withdrawn", "reminder",
    "cc-submitted", "cc-approved", "cc-rejected", "cc-withdrawn",
}


class ApprovalHandler(AppHandler):
    app = "approval"
    label = pgettext_lazy("message kind", "Approval")
    chat_include = "apps_approval/chat_include.html"
    # Cards come from the workflow, never from a client, and are never edited.
    client_sendable = False
    editable = False

    def clean(self, body: dict[str, Any], *, sender, conversation) -> dict[str, Any]:
        """Only a card about an approval both people of the conversation are part of; its
        contents come from the database, whatever a client put in the body."""
        approval_id, event = body.get("approval"), body.get("event")
        if not is_number(approval_id) or event not in EVENTS:
            raise ApplicationError(_("An approval card names an approval and an event."), code="invalid")
        approval = Approval.objects.select_related("template", "requester").filter(pk=approval_id).first()
        involved = {approval.requester_id} if approval else set()
        if approval:
            involved |= set(StepApprover.objects.filter(step__approval=approval).values_list("user_id", flat=True))
            involved |= set(approval.cc.values_list("user_id", flat=True))
        if approval is None or not set(conversation_member_ids(conversation.pk)) <= involved:
            raise ApplicationError(_("That approval is not shared by this conversation."), code="not_permitted")
        return {
            "approval": approval.pk,
            "event": event,
            "title": approval.template.name,
            "template": approval.template.code,
            "requester": approval.requester_id,
            "state": approval.state,
        }

    def preview_text(self, body: dict[str, Any]) -> str:
        """"[Approval] Leave": the card's template name in the reader's language."""
        return default_preview(self.label, {"title": builtin_text(body.get("title"))})

    def action_url(self, body: dict[str, Any]) -> str | None:
        """A card that asks its approver to decide (a new request, a reminder) opens the request."""
        if body.get("event") in ("review", "reminder") and is_number(body.get("approval")):
            return reverse("approvals:detail", args=[body["approval"]])
        return None

    def search_text(self, body: dict[str, Any]) -> str:
        """The card's title, in every language the site speaks (a built-in template's name
        is translated where it is shown), and what the request's form says (its reason,
        its items): the card shows both to the conversation's members."""
        title = body.get("title") if isinstance(body.get("title"), str) else ""
        parts = [title]
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                parts.append(builtin_text(title))
        approval = Approval.objects.filter(pk=body.get("approval")).only("data").first() if is_number(body.get("approval")) else None
        if approval is not None and isinstance(approval.data, dict):
            parts.extend(text for value in approval.data.values() for text in json_strings(value))
        return "\n".join(dict.fromkeys(part.strip() for part in parts if part.strip()))

    def chat_config(self) -> dict[str, Any]:
        """The templates' names in the reader's language, by code: the client previews a
        card that arrives live with them (its body holds the name as stored)."""
        return {"templates": {t.code: t.shown_name for t in ApprovalTemplate.objects.only("code", "name")}}
