"""Reads for announcements."""

from __future__ import annotations

import functools
from operator import or_
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contacts.models import Department, Membership
from imsite.errors import ApplicationError, require_number

from .models import Announcement, Recipient


def departments_with_subdepartments(departments) -> QuerySet[Department]:
    departments = list(departments)
    if not departments:
        return Department.objects.none()
    return Department.objects.filter(functools.reduce(or_, (Q(path__startswith=d.path) for d in departments)))


def audience_user_ids(audience: dict[str, Any]) -> list[int]:
    """Everyone an audience names, active people only, in id order."""
    people = User.objects.filter(is_active=True, is_service_account=False)
    if not audience.get("everyone"):
        departments = departments_with_subdepartments(Department.objects.filter(code__in=audience.get("departments", [])))
        member_ids = Membership.objects.filter(department__in=departments).values("user_id")
        manager_ids = departments.filter(manager__isnull=False).values("manager_id")
        people = people.filter(Q(pk__in=member_ids) | Q(pk__in=manager_ids))
    return list(people.order_by("pk").values_list("pk", flat=True))


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


def receipt_for(*, user: User, announcement: Announcement) -> Recipient | None:
    return Recipient.objects.filter(announcement=announcement, user=user).first()


def announcement_get_for_user(*, user: User, announcement_id: Any) -> Announcement:
    require_number(announcement_id, "announcement")
    announcement = announcement_list_for_user(user=user).filter(pk=announcement_id).first()
    if announcement is None:
        raise ApplicationError(_("No such announcement."), code="not_found")
    return announcement


def announcement_stats(*, user: User, announcement_id: Any) -> dict:
    """Audience, read and confirmed, with who has not: for the author and administrators."""
    require_number(announcement_id, "announcement")
    announcement = Announcement.objects.filter(pk=announcement_id).first()
    if announcement is None:
        raise ApplicationError(_("No such announcement."), code="not_found")
    if announcement.author_id != user.pk and not user.is_staff:
        raise ApplicationError(_("Only the author can see who has read this."), code="not_permitted")
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
