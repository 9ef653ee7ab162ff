"""Approvals: templates with routing chains, requests, their steps and an immutable audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .builtin import builtin_text


class ApprovalTemplate(models.Model):
    """A kind of request: its form fields and its chain of approval steps, as data.

    ``fields``: ``[{"name", "label", "type", "required", "options", "min", "max"}]`` with
    ``type`` one of text, textarea, number, date, time, select, items, file.
    ``steps``: ``[{"name", "approvers": {"kind": "manager" | "next_manager" | "users" |
    "department_managers", "users": [...], "department": code}, "mode": "all" | "any",
    "condition": {"field", "op", "value"} | null}]``.
    ``cc``: approver specs (as in a step) told at submission and at the end.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=150)
    description = models.CharField(_("description"), max_length=300, blank=True)
    fields = models.JSONField(_("form fields"), default=list)
    steps = models.JSONField(_("approval steps"), default=list)
    cc = models.JSONField(_("copy to"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("approval template")
        verbose_name_plural = _("approval templates")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    # What people read: a built-in template's texts in their language (builtin.py), an
    # admin's as typed.
    @property
    def shown_name(self) -> str:
        return builtin_text(self.name)

    @property
    def shown_description(self) -> str:
        return builtin_text(self.description)

    @property
    def shown_fields(self) -> list[dict]:
        return [{**f, "label": builtin_text(f.get("label") or f.get("name", ""))} for f in self.fields]


class Approval(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", pgettext_lazy("approval state", "Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    template = models.ForeignKey(ApprovalTemplate, on_delete=models.PROTECT, related_name="approvals", verbose_name=_("template"))
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals", verbose_name=_("requester")
    )
    data = models.JSONField(_("form"), default=dict)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    current_step = models.PositiveSmallIntegerField(_("current step"), null=True, blank=True)
    client_id = models.CharField(_("client id"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("last reminder"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["requester", "client_id"], name="approval_client_id_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template.name} #{self.pk}"


class ApprovalStep(models.Model):
    class Mode(models.TextChoices):
        ALL = "all", _("Countersign (all must approve)")
        ANY = "any", _("Or-sign (any one approves)")

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="steps", verbose_name=_("approval"))
    index = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=150)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.ANY)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.WAITING)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["approval", "index"]
        constraints = [models.UniqueConstraint(fields=["approval", "index"], name="approval_step_unique")]

    def __str__(self) -> str:
        return f"{self.approval} · {self.index + 1}. {self.name}"


class StepApprover(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")

    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="approvers", verbose_name=_("step"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("approver"))
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, blank=True)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("step approver")
        verbose_name_plural = _("step approvers")
        constraints = [models.UniqueConstraint(fields=["step", "user"], name="step_approver_unique")]


class ApprovalCC(models.Model):
    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="cc", verbose_name=_("approval"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user"))

    class Meta:
        verbose_name = _("copy")
        verbose_name_plural = _("copies")
        constraints = [models.UniqueConstraint(fields=["approval", "user"], name="approval_cc_unique")]


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Approval events are never updated.")

    def delete(self):
        raise PermissionError("Approval events are never deleted.")


class ApprovalEvent(models.Model):
    """One transition or decision: who, when, from, to, comment. Written once, never changed."""

    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="events", verbose_name=_("approval"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    action = models.CharField(_("action"), max_length=32)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    step_index = models.PositiveSmallIntegerField(_("step"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval event")
        verbose_name_plural = _("approval events")
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Approval events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Approval events are never deleted.")

    def __str__(self) -> str:
        return f"{self.approval} {self.action} {self.from_state}→{self.to_state}"


def _upload_to(instance: "ApprovalFile", filename: str) -> str:
    import uuid

    return f"approvals/{uuid.uuid4().hex}/{filename}"


class ApprovalFile(models.Model):
    """A file attached to a request's form (a receipt, say): uploaded first, then named by
    its id in the form, and served only to the people involved in that request."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner"))
    approval = models.ForeignKey(
        Approval, on_delete=models.PROTECT, null=True, blank=True, related_name="files", verbose_name=_("approval")
    )
    file = models.FileField(_("file"), upload_to=_upload_to)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=100, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attached file")
        verbose_name_plural = _("attached files")

    def __str__(self) -> str:
        return self.name
