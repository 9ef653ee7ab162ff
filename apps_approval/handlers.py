"""The ``approval`` application attribute: cards that travel in ordinary messages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import ApplicationError, is_number
from messaging.registry import AppHandler
from messaging.selectors import conversation_member_ids

from .models import Approval, StepApprover

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
