"""Reads for announcements."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contacts.models import Department, Membership
from contacts.selectors import departments_with_subdepartments
from core.errors import ApplicationError, require_number

from .models import Announcement, Recipient


def audience_user_ids(audience: dict[str, Any]) -> list[int]:
    """Everyone an audience names, active people only, in id order."""
    people = User.objects.filter(is_active=True, is_service_account=False)
    if not audience.get("everyone"):
        departments = departments_with_subdepartments(Department.objects.filter(code__in=audience.get("departments", [])))
        member_ids = Membership.objects.filter(department__in=departments).values("user_id")
        manager_ids = departments.filter(manager__isnull=False).values("manager_id")
        people = people.filter(Q(pk__in=member_ids) | Q(pk__in=manager_ids))
    return list(people.order_by("pk").values_list("pk", flat=True))


def may_announce_to_everyone(user: User) -> bool:
    """HR and the president's office (ANNOUNCE_TO_EVERYONE_DEPARTMENTS)."""
    return Membership.objects.filter(
        user=user, department__code__in=settings.ANNOUNCE_TO_EVERYONE_DEPARTMENTS
    ).exists()


def departments_user_may_address(user: User) -> QuerySet[Department]:
    """The departments someone may announce to: all of them for HR and the president's
    office, the ones they manage and those below for a manager, none for anyone else."""
    if may_announce_to_everyone(user):
        return Department.objects.all()
    return departments_with_subdepartments(Department.objects.filter(manager=user))


def may_announce(user: User) -> bool:
    """Whether someone may announce to anybody at all (the "New announcement" button)."""
    if not user.is_authenticated or not user.is_active or getattr(user, "is_service_account", False):
        return False
    return may_announce_to_everyone(user) or Department.objects.filter(manager=user).exists()


def audience_department_names(audience: dict[str, Any]) -> list[str]:
    """The names of the departments an audience names, in its order (codes stay as they
    are if a department has since gone)."""
    codes = audience.get("departments", [])
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    return [names.get(code, code) for code in codes]


def announcement_list_for_user(*, user: User) -> QuerySet[Announcement]:
    """Announcements I received or wrote, newest first, with my receipt."""
    return (
        Announcement.objects.filter(Q(recipients__user=user) | Q(author=user))
        .select_related("author")
        .distinct()
        .order_by("-created_at", "-id")
    )


def pinned_for_user(*, user: User) -> QuerySet[Announcement]:
    now = timezone.now()
    return announcement_list_for_user(user=user).filter(pinned=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def announcement_list_received(*, user: User) -> QuerySet[Announcement]:
    """Announcements delivered to me, newest first, with my ``read_at`` and ``confirmed_at``."""
    mine = Recipient.objects.filter(announcement=OuterRef("pk"), user=user)
    return (
        Announcement.objects.filter(recipients__user=user)
        .select_related("author")
        .annotate(
            read_at=Subquery(mine.values("read_at")[:1]),
            confirmed_at=Subquery(mine.values("confirmed_at")[:1]),
        )
        .order_by("-created_at", "-id")
    )


def announcement_list_written(*, user: User) -> QuerySet[Announcement]:
    """Announcements I wrote, newest first, with how many have read and confirmed."""
    return (
        Announcement.objects.filter(author=user)
        .select_related("author")
        .annotate(
            delivered_count=Count("recipients", filter=Q(recipients__delivered_at__isnull=False)),
            read_count=Count("recipients", filter=Q(recipients__read_at__isnull=False)),
            confirmed_count=Count("recipients", filter=Q(recipients__confirmed_at__isnull=False)),
        )
        .order_by("-created_at", "-id")
    )


def receipt_for(*, user: User, announcement: Announcement) -> Recipient | None:
    return Recipient.objects.filter(announcement=announcement, user=user).first()


def announcement_get_for_user(*, user: User, announcement_id: Any) -> Announcement:
    """One announcement I received or wrote (administrators: any)."""
    require_number(announcement_id, "announcement")
    visible = Announcement.objects.select_related("author") if user.is_staff else announcement_list_for_user(user=user)
    announcement = visible.filter(pk=announcement_id).first()
    if announcement is None:
        raise ApplicationError(_("No such announcement."), code="not_found")
    return announcement


def may_see_receipts(*, user: User, announcement: Announcement) -> bool:
    return announcement.author_id == user.pk or user.is_staff


def access_announcement_receipts(*, user: User, announcement_id: Any) -> Announcement:
    """The announcement, if ``user`` may see everyone's receipts of it: its author and
    administrators."""
    require_number(announcement_id, "announcement")
    announcement = Announcement.objects.select_related("author").filter(pk=announcement_id).first()
    if announcement is None:
        raise ApplicationError(_("No such announcement."), code="not_found")
    if not may_see_receipts(user=user, announcement=announcement):
        raise ApplicationError(_("Only the author can see who has read this."), code="not_permitted")
    return announcement


def announcement_stats(*, user: User, announcement_id: Any) -> dict:
    """Audience, read and confirmed, with who has not: for the author and administrators."""
    announcement = access_announcement_receipts(user=user, announcement_id=announcement_id)
    recipients = Recipient.objects.filter(announcement=announcement).select_related("user").order_by("user__username")
    counts = recipients.aggregate(
        audience=Count("id"), read=Count("read_at"), confirmed=Count("confirmed_at")
    )

    def people(rows) -> list[dict]:
        return [{"id": r.user_id, "username": r.user.username, "display_name": r.user.name} for r in rows]

    return {
        "id": announcement.pk,
        "audience": announcement.audience_size,
        "delivered": counts["audience"],
        "read": counts["read"],
        "confirmed": counts["confirmed"],
        "unread_users": people(recipients.filter(read_at__isnull=True)),
        "unconfirmed_users": people(recipients.filter(confirmed_at__isnull=True))
        if announcement.requires_confirmation
        else [],
    }


def announcement_receipts_export(*, user: User, announcement_id: Any) -> tuple[Announcement, list[tuple]]:
    """Every receipt as ``(username, display name, department, delivered_at, read_at,
    confirmed_at)`` rows, by username, for the CSV export; the department is the person's
    primary one. Author and administrators only."""
    announcement = access_announcement_receipts(user=user, announcement_id=announcement_id)
    primary_department = Membership.objects.filter(user=OuterRef("user"), is_primary=True).values("department__name")[:1]
    rows = (
        Recipient.objects.filter(announcement=announcement)
        .annotate(department=Subquery(primary_department))
        .order_by("user__username")
        .values_list(
            "user__username", "user__display_name", "user__first_name", "user__last_name",
            "department", "delivered_at", "read_at", "confirmed_at",
        )
    )

    def named(row: tuple) -> tuple:
        username, display_name, first, last, *rest = row
        # User.name, without loading whole users.
        return (username, display_name or f"{first} {last}".strip() or username, *rest)

    return announcement, [named(row) for row in rows]
