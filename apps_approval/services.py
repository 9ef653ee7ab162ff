"""Writes for approvals: submit, decide, withdraw, remind. Every transition is audited.

The state machine is the transition table below; a transition happens only under a row
lock on the approval, so two people clicking at once yield exactly one transition.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError, require_client_id, require_number
from core import bus
from messaging.realtime import publish_app_event_on_commit
from messaging.send import message_send

from .forms import form_clean
from .models import Approval, ApprovalCC, ApprovalEvent, ApprovalFile, ApprovalStep, ApprovalTemplate, StepApprover
from .routing import resolve_cc, resolve_chain

State = Approval.State
logger = logging.getLogger(__name__)

# (from, action) -> to
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.DRAFT, "submit"): State.PENDING,
    (State.PENDING, "approve"): State.APPROVED,
    (State.PENDING, "reject"): State.REJECTED,
    (State.PENDING, "withdraw"): State.WITHDRAWN,
}


def _transition(approval: Approval, action: str, *, actor: User | None, comment: str = "") -> None:
    target = TRANSITIONS.get((approval.state, action))
    if target is None:
        raise ApplicationError(
            _("This request is %(state)s; it cannot be changed now.") % {"state": approval.get_state_display()},
            code="conflict",
        )
    ApprovalEvent.objects.create(
        approval=approval,
        actor=actor,
        action=action,
        from_state=approval.state,
        to_state=target,
        step_index=approval.current_step,
        comment=comment,
    )
    approval.state = target
    fields = ["state", "updated_at"]
    if target in (State.APPROVED, State.REJECTED, State.WITHDRAWN):
        approval.finished_at = timezone.now()
        approval.current_step = None
        fields += ["finished_at", "current_step"]
    approval.save(update_fields=fields)


def _participant_ids(approval: Approval) -> set[int]:
    ids = {approval.requester_id}
    ids |= set(StepApprover.objects.filter(step__approval=approval).values_list("user_id", flat=True))
    ids |= set(approval.cc.values_list("user_id", flat=True))
    return ids


def _card(*, approval: Approval, sender: User, recipient_id: int, event: str) -> None:
    """An approval card in the direct conversation of two participants (idempotent).

    Best effort towards people who have left: a deactivated recipient gets no card, and
    the workflow goes on."""
    if not User.objects.filter(pk=recipient_id, is_active=True).exists():
        return
    message_send(
        from_client=False,
        sender=sender,
        to_user_id=recipient_id,
        app="approval",
        body={"approval": approval.pk, "event": event},
        client_id=f"approval:{approval.pk}:{event}:{approval.current_step}:{recipient_id}"[:64],
    )


def _announce(approval: Approval) -> None:
    publish_app_event_on_commit(
        _participant_ids(approval), app="approval", data={"approval": approval.pk, "state": approval.state}
    )


def _start_step(approval: Approval, step: ApprovalStep) -> None:
    step.state = ApprovalStep.State.PENDING
    step.started_at = timezone.now()
    step.save(update_fields=["state", "started_at"])
    approval.current_step = step.index
    approval.save(update_fields=["current_step", "updated_at"])
    for approver_id in step.approvers.values_list("user_id", flat=True):
        _card(approval=approval, sender=approval.requester, recipient_id=approver_id, event="review")


def _finish(approval: Approval, *, actor: User, action: str, comment: str) -> None:
    _transition(approval, action, actor=actor, comment=comment)
    if actor.pk != approval.requester_id:
        _card(approval=approval, sender=actor, recipient_id=approval.requester_id, event=approval.state)
    for cc_id in approval.cc.values_list("user_id", flat=True):
        _card(approval=approval, sender=approval.requester, recipient_id=cc_id, event=f"cc-{approval.state}")
    bus.publish_on_commit(
        f"approval.{approval.state}",
        {
            "approval": approval.pk,
            "template": approval.template.code,
            "requester": approval.requester_id,
            "data": approval.data,
            "state": approval.state,
        },
    )


@transaction.atomic
def approval_submit(*, requester: User, template_code: Any, data: Any, client_id: Any) -> tuple[Approval, bool]:
    """File a request and send it to the first step's approvers. Idempotent by client_id."""
    require_client_id(client_id)
    existing = Approval.objects.filter(requester=requester, client_id=client_id).first()
    if existing is not None:
        return existing, False
    template = ApprovalTemplate.objects.filter(code=template_code, is_active=True).first()
    if template is None:
        raise ApplicationError(_("No such approval template."), code="not_found")
    data = form_clean(fields=template.fields, data=data, owner=requester)
    chain = resolve_chain(steps=template.steps, requester=requester, data=data)
    if not chain:
        raise ApplicationError(
            _("Nobody can approve this request. Ask an administrator to set your department's manager."),
            code="no_approver",
        )
    try:
        with transaction.atomic():
            approval = Approval.objects.create(template=template, requester=requester, data=data, client_id=client_id)
    except IntegrityError:  # the same client_id raced in
        existing = Approval.objects.filter(requester=requester, client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
    file_ids = [data[f["name"]] for f in template.fields if f.get("type") == "file" and f["name"] in data]
    ApprovalFile.objects.filter(pk__in=file_ids, owner=requester, approval__isnull=True).update(approval=approval)
    ApprovalEvent.objects.create(approval=approval, actor=requester, action="create", to_state=State.DRAFT)
    first = None
    for resolved in chain:
        step = ApprovalStep.objects.create(approval=approval, index=resolved.index, name=resolved.name, mode=resolved.mode)
        StepApprover.objects.bulk_create([StepApprover(step=step, user=u) for u in resolved.approvers])
        first = first or step
    ApprovalCC.objects.bulk_create(
        [ApprovalCC(approval=approval, user=u) for u in resolve_cc(specs=template.cc, requester=requester)]
    )
    _transition(approval, "submit", actor=requester)
    _start_step(approval, first)
    for cc_id in approval.cc.values_list("user_id", flat=True):
        _card(approval=approval, sender=requester, recipient_id=cc_id, event="cc-submitted")
    _announce(approval)
    return approval, True


def _locked(approval_id: Any) -> Approval:
    require_number(approval_id, "approval")
    approval = Approval.objects.select_for_update().select_related("template", "requester").filter(pk=approval_id).first()
    if approval is None:
        raise ApplicationError(_("No such approval."), code="not_found")
    return approval


@transaction.atomic
def approval_decide(*, user: User, approval_id: Any, decision: Any, comment: str = "") -> Approval:
    if decision not in ("approve", "reject"):
        raise ApplicationError(_("decision must be approve or reject."), code="invalid")
    approval = _locked(approval_id)
    if user.pk not in _participant_ids(approval):
        raise ApplicationError(_("No such approval."), code="not_found")
    step = approval.steps.filter(index=approval.current_step).first() if approval.state == State.PENDING else None
    mine = step.approvers.filter(user=user).first() if step else None
    if mine is None:
        if approval.state != State.PENDING:
            raise ApplicationError(
                _("This request is %(state)s; it cannot be changed now.") % {"state": approval.get_state_display().lower()},
                code="conflict",
            )
        if StepApprover.objects.filter(step__approval=approval, step__index__lt=approval.current_step, user=user).exists():
            raise ApplicationError(_("This request has already been decided."), code="conflict")
        raise ApplicationError(_("Only the current step's approvers can decide."), code="not_permitted")
    if mine.decision:
        raise ApplicationError(_("You have already decided on this request."), code="conflict")
    comment = (comment or "").strip()[:1000]
    mine.decision, mine.comment, mine.decided_at = decision, comment, timezone.now()
    mine.save(update_fields=["decision", "comment", "decided_at"])
    ApprovalEvent.objects.create(
        approval=approval, actor=user, action=decision, from_state=approval.state, to_state=approval.state,
        step_index=step.index, comment=comment,
    )
    if decision == "reject":
        step.state = ApprovalStep.State.REJECTED
        step.save(update_fields=["state"])
        approval.steps.filter(index__gt=step.index).update(state=ApprovalStep.State.CANCELLED)
        _finish(approval, actor=user, action="reject", comment=comment)
    elif step.mode == ApprovalStep.Mode.ANY or not step.approvers.filter(decided_at__isnull=True).exists():
        step.state = ApprovalStep.State.APPROVED
        step.save(update_fields=["state"])
        following = approval.steps.filter(index__gt=step.index).order_by("index").first()
        if following is None:
            _finish(approval, actor=user, action="approve", comment=comment)
        else:
            _card(approval=approval, sender=user, recipient_id=approval.requester_id, event="progress")
            _start_step(approval, following)
    _announce(approval)
    return approval


@transaction.atomic
def approval_withdraw(*, user: User, approval_id: Any, comment: str = "") -> Approval:
    approval = _locked(approval_id)
    if approval.requester_id != user.pk:
        if user.pk in _participant_ids(approval):
            raise ApplicationError(_("Only the requester can withdraw a request."), code="not_permitted")
        raise ApplicationError(_("No such approval."), code="not_found")
    approval.steps.filter(state__in=[ApprovalStep.State.PENDING, ApprovalStep.State.WAITING]).update(
        state=ApprovalStep.State.CANCELLED
    )
    pending_ids = list(
        StepApprover.objects.filter(step__approval=approval, step__index=approval.current_step).values_list("user_id", flat=True)
    )
    _finish(approval, actor=user, action="withdraw", comment=(comment or "").strip()[:1000])
    for approver_id in pending_ids:
        _card(approval=approval, sender=user, recipient_id=approver_id, event="withdrawn")
    _announce(approval)
    return approval


def approvals_remind(*, now=None) -> int:
    """Remind the current approvers of requests pending longer than the configured time."""
    now = now or timezone.now()
    threshold = now - timedelta(hours=settings.APPROVAL_REMIND_AFTER_HOURS)
    due = ApprovalStep.objects.filter(
        state=ApprovalStep.State.PENDING, started_at__lte=threshold, approval__state=State.PENDING
    ).filter(Q(approval__reminded_at__isnull=True) | Q(approval__reminded_at__lte=threshold))
    count = 0
    for step in due.select_related("approval", "approval__requester"):
        try:
            count += _remind(step, now=now)
        except Exception:  # one broken request must not stop the others' reminders
            logger.exception("reminding approval %s failed", step.approval_id)
    return count


@transaction.atomic
def _remind(step: ApprovalStep, *, now) -> int:
    approval = step.approval
    approvers = list(
        step.approvers.filter(decided_at__isnull=True, user__is_active=True).values_list("user_id", flat=True)
    )
    for approver in approvers:
        message_send(
            from_client=False,
            sender=approval.requester,
            to_user_id=approver,
            app="approval",
            body={"approval": approval.pk, "event": "reminder"},
            client_id=f"approval:{approval.pk}:remind:{now:%Y%m%d%H}:{approver}"[:64],
        )
    Approval.objects.filter(pk=approval.pk).update(reminded_at=now)
    return len(approvers)


def conversation_permit(a: User, b: User) -> bool:
    """An approval lets its requester talk with its approvers and copies, and back."""
    def between(requester: User, other: User) -> Q:
        return Q(requester=requester) & (Q(steps__approvers__user=other) | Q(cc__user=other))

    return Approval.objects.filter(between(a, b) | between(b, a)).exists()


def demo_templates_configure(**kwargs) -> None:
    """The built-in templates (restored if missing) with the demo organisation's routing."""
    from .builtin import DEMO_STEPS, TEMPLATES

    for template in TEMPLATES:
        ApprovalTemplate.objects.get_or_create(
            code=template["code"], defaults={k: v for k, v in template.items() if k != "code"}
        )
    for code, steps in DEMO_STEPS.items():
        ApprovalTemplate.objects.filter(code=code).update(steps=steps)


def approval_file_upload(*, owner: User, upload) -> ApprovalFile:
    """Keep a file for a request the owner is about to submit (a receipt, say)."""
    from django.utils.text import get_valid_filename

    if upload is None:
        raise ApplicationError(_("Choose a file to upload."), code="invalid")
    if upload.size > settings.APPROVAL_FILE_MAX_BYTES:
        raise ApplicationError(
            _("The file is too large (at most %(mb)d MB).") % {"mb": settings.APPROVAL_FILE_MAX_BYTES // 2**20},
            code="too_large",
        )
    name = get_valid_filename(upload.name or "file")[:200] or "file"
    stored = ApprovalFile(owner=owner, name=name, size=upload.size, content_type=(upload.content_type or "")[:100])
    stored.file.save(name, upload, save=False)
    stored.save()
    return stored


def approval_files_discard_unused(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete uploads that never became part of a request (a form left unsent)."""
    stale = ApprovalFile.objects.filter(approval__isnull=True, uploaded_at__lt=timezone.now() - older_than)
    count = 0
    for stored in stale:
        stored.file.delete(save=False)
        stored.delete()
        count += 1
    return count
