"""Reads for approvals, each limited to the people involved."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError, require_number

from .builtin import builtin_text, option_text
from .models import Approval, ApprovalEvent, ApprovalFile, ApprovalStep, ApprovalTemplate, StepApprover

BOXES = ("pending", "mine", "done")


def _person(user: User) -> dict:
    return {"id": user.pk, "username": user.username, "display_name": user.name}


def _involving(user: User) -> Q:
    return Q(requester=user) | Q(steps__approvers__user=user) | Q(cc__user=user)


def approvals_queryset() -> QuerySet[Approval]:
    return Approval.objects.select_related("template", "requester").prefetch_related(
        Prefetch(
            "steps",
            queryset=ApprovalStep.objects.order_by("index").prefetch_related(
                Prefetch("approvers", queryset=StepApprover.objects.select_related("user").order_by("id"))
            ),
        ),
        Prefetch("events", queryset=ApprovalEvent.objects.select_related("actor").order_by("at", "id")),
        "cc__user",
        "files",
    )


def approval_get_for_user(*, user: User, approval_id: Any) -> Approval:
    require_number(approval_id, "approval")
    approval = approvals_queryset().filter(_involving(user), pk=approval_id).distinct().first()
    if approval is None:
        raise ApplicationError(_("No such approval."), code="not_found")
    return approval


def _waiting_for(user: User) -> QuerySet:
    """The ids of the requests whose current step waits for ``user``'s decision."""
    return StepApprover.objects.filter(
        user=user, decided_at__isnull=True, step__state=ApprovalStep.State.PENDING,
        step__approval__state=Approval.State.PENDING,
    ).values("step__approval_id")


def pending_count_for_user(*, user: User) -> int:
    """How many requests wait for ``user``'s decision: the "Waiting for me" box."""
    return Approval.objects.filter(pk__in=_waiting_for(user)).count()


def approval_list_for_user(*, user: User, box: str) -> QuerySet[Approval]:
    """``pending``: waiting for my decision; ``mine``: my requests; ``done``: decided by me."""
    if box not in BOXES:
        raise ApplicationError(_("box must be pending, mine or done."), code="invalid")
    approvals = approvals_queryset()
    if box == "mine":
        approvals = approvals.filter(requester=user)
    elif box == "pending":
        approvals = approvals.filter(pk__in=_waiting_for(user))
    else:
        approvals = approvals.filter(pk__in=StepApprover.objects.filter(user=user, decided_at__isnull=False).values("step__approval_id"))
    return approvals.order_by("-updated_at", "-id")


def template_list() -> QuerySet[ApprovalTemplate]:
    return ApprovalTemplate.objects.filter(is_active=True)


def field_summary(approval: Approval) -> list[dict]:
    """The form as label/value pairs in the template's order, in the reader's language."""
    rows = []
    for field in approval.template.fields:
        value = approval.data.get(field["name"])
        if value in (None, "", []):
            continue
        url = None
        if field.get("type") == "items":
            value = "; ".join(f"{i['description']} {i['amount']:g}" for i in value)
        elif field.get("type") == "select":
            value = option_text(value)
        elif field.get("type") == "file":
            attached = next((f for f in approval.files.all() if f.pk == value), None)
            value, url = (attached.name, reverse("approval-file", args=[attached.pk])) if attached else ("—", None)
        rows.append(
            {"name": field["name"], "label": builtin_text(field.get("label") or field["name"]), "value": str(value), "url": url}
        )
    return rows


def approval_detail(approval: Approval, *, viewer: User) -> dict:
    """Everything a card, a page or the API shows about a request, for one viewer."""
    steps = list(approval.steps.all())
    current = next((s for s in steps if s.index == approval.current_step), None)
    current_approvers = [a.user for a in current.approvers.all() if a.decided_at is None] if current else []
    return {
        "id": approval.pk,
        "template": {"code": approval.template.code, "name": approval.template.shown_name},
        "requester": _person(approval.requester),
        "data": approval.data,
        "summary": field_summary(approval),
        "state": approval.state,
        "state_label": approval.get_state_display(),
        "current_step": approval.current_step,
        "steps": [
            {
                "index": step.index,
                "name": builtin_text(step.name),
                "mode": step.mode,
                "state": step.state,
                "approvers": [
                    {
                        **_person(a.user),
                        "decision": a.decision or None,
                        "comment": a.comment,
                        "decided_at": a.decided_at,
                    }
                    for a in step.approvers.all()
                ],
            }
            for step in steps
        ],
        "current_approvers": [_person(u) for u in current_approvers],
        "cc": [_person(c.user) for c in approval.cc.all()],
        "events": [
            {
                "action": e.action,
                "actor": _person(e.actor) if e.actor else None,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "step": e.step_index,
                "comment": e.comment,
                "at": e.at,
            }
            for e in approval.events.all()
        ],
        "created_at": approval.created_at,
        "finished_at": approval.finished_at,
        "can_decide": any(u.pk == viewer.pk for u in current_approvers),
        "can_withdraw": approval.state == Approval.State.PENDING and approval.requester_id == viewer.pk,
    }


def approval_file_get_for_user(*, user: User, file_id: Any) -> ApprovalFile:
    """A file of a request the user is involved in, or their own not yet attached upload."""
    require_number(file_id, "file")
    stored = ApprovalFile.objects.filter(pk=file_id).first()
    if stored is not None:
        if stored.approval_id is None and stored.owner_id == user.pk:
            return stored
        if stored.approval_id is not None and Approval.objects.filter(_involving(user), pk=stored.approval_id).exists():
            return stored
    raise ApplicationError(_("No such file."), code="not_found")
