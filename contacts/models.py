"""The departmental address book: the paper's Contact Server."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node


class Department(MP_Node):
    name = models.CharField(_("name"), max_length=150)
    code = models.SlugField(
        _("code"), max_length=64, unique=True, help_text=_("A short stable key, such as “dev”.")
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_departments",
    )

    node_order_by = ["name"]

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A person's place in a department. A person may belong to several; one is primary."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="memberships"
    )
    title = models.CharField(_("title"), max_length=150, blank=True)
    is_primary = models.BooleanField(_("primary"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_primary=True), name="membership_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"


class VisibilityRule(models.Model):
    """Whom the people of one department may see: the paper's three kinds of rule.

    A department with no rule sees itself.
    """

    class Kind(models.TextChoices):
        OWN_DEPARTMENT = "own_department", _("Its own department")
        DEPARTMENTS = "departments", _("The listed departments")
        ALL_MANAGERS = "all_managers", _("The manager of every department")

    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="visibility_rules",
        help_text=_("The people of this department see…"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    targets = models.ManyToManyField(
        Department,
        verbose_name=_("departments seen"),
        blank=True,
        related_name="+",
        help_text=_("For “the listed departments” only."),
    )
    include_subdepartments = models.BooleanField(
        _("include sub-departments"),
        default=True,
        help_text=_("Also see the people of the departments below the ones seen."),
    )

    class Meta:
        verbose_name = _("visibility rule")
        verbose_name_plural = _("visibility rules")
        ordering = ["department__path", "kind"]

    def __str__(self) -> str:
        return f"{self.department}: {self.get_kind_display()}"


class FriendRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        on_delete=models.CASCADE,
        related_name="friend_requests_sent",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        on_delete=models.CASCADE,
        related_name="friend_requests_received",
    )
    message = models.CharField(pgettext_lazy("friend request", "message"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("friend request")
        verbose_name_plural = _("friend requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_user=models.F("to_user")), name="friend_request_not_self"
            ),
            # At most one open request per direction; declined ones may be sent again.
            models.UniqueConstraint(
                fields=["from_user", "to_user"],
                condition=Q(status="pending"),
                name="friend_request_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["to_user", "status"]), models.Index(fields=["from_user", "status"])]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user} ({self.status})"
