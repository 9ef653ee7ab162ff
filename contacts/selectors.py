"""Reads for the address book, each checked against the viewer's permissions."""

from __future__ import annotations

import functools
from operator import or_

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError

from . import policy
from .models import Department, FriendRequest, Membership


def departments_with_subdepartments(departments) -> QuerySet[Department]:
    """These departments and every department below them."""
    departments = list(departments)
    if not departments:
        return Department.objects.none()
    return Department.objects.filter(functools.reduce(or_, (Q(path__startswith=d.path) for d in departments)))


def departments_managed_by(*, user: User) -> QuerySet[Department]:
    """The departments the user manages and every department below them, as one query (or a
    subquery of another): a department is below another when the other's path begins its own."""
    return Department.objects.filter(
        Exists(Department.objects.filter(manager=user, path=Substr(OuterRef("path"), 1, Length("path"))))
    )


def primary_department_for_user(*, user: User) -> Department | None:
    membership = (
        Membership.objects.filter(user=user)
        .select_related("department")
        .order_by("-is_primary", "id")
        .first()
    )
    return membership.department if membership else None


def profile_department(user: User) -> dict | None:
    """The department a person's profile shows (accounts.selectors.user_profile)."""
    department = primary_department_for_user(user=user)
    return {"id": department.id, "code": department.code, "name": department.name} if department else None


def people_queryset() -> QuerySet[User]:
    """Active users with what a person card shows, in a fixed number of queries."""
    return (
        User.objects.filter(is_active=True, is_service_account=False)
        .annotate(is_manager=Exists(Department.objects.filter(manager=OuterRef("pk"))))
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("department").order_by("-is_primary", "id"),
                to_attr="ordered_memberships",
            )
        )
        .order_by("display_name", "username")
    )


def person_card(user: User) -> dict:
    """The fields every people listing shows; expects a ``people_queryset()`` row."""
    membership = user.ordered_memberships[0] if user.ordered_memberships else None
    department = membership.department if membership else None
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.name,
        "department": (
            {"id": department.id, "code": department.code, "name": department.name}
            if department
            else None
        ),
        "title": (membership.title if membership and membership.title else user.title),
        "is_manager": bool(user.is_manager),
    }


def contact_list_for_user(*, user: User) -> QuerySet[User]:
    return people_queryset().filter(id__in=policy.contact_ids(user))


def directory_search(*, user: User, query: str = "") -> QuerySet[User]:
    """Search the whole company by name, username, department and title.

    The directory is company-wide on purpose: a friend request can reach anyone, even
    though messaging still needs a rule or an accepted request.
    """
    people = people_queryset()
    for term in query.split():
        people = people.filter(
            Q(username__icontains=term)
            | Q(display_name__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(title__icontains=term)
            | Q(memberships__title__icontains=term)
            | Q(memberships__department__name__icontains=term)
            | Q(memberships__department__code__iexact=term)
        )
    return people.distinct()


def department_tree() -> list[dict]:
    """The whole department tree with each department's manager and members."""
    departments = list(Department.objects.get_tree().select_related("manager"))
    memberships = (
        Membership.objects.filter(user__is_active=True)
        .select_related("user")
        .order_by("user__display_name", "user__username")
    )
    members_by_department: dict[int, list[dict]] = {}
    for membership in memberships:
        members_by_department.setdefault(membership.department_id, []).append(
            {
                "id": membership.user_id,
                "username": membership.user.username,
                "display_name": membership.user.name,
                "title": membership.title or membership.user.title,
            }
        )
    nodes: dict[str, dict] = {}
    roots: list[dict] = []
    for department in departments:
        manager = department.manager
        node = {
            "id": department.id,
            "code": department.code,
            "name": department.name,
            "manager": (
                {"id": manager.id, "username": manager.username, "display_name": manager.name}
                if manager
                else None
            ),
            "members": members_by_department.get(department.id, []),
            "children": [],
        }
        nodes[department.path] = node
        parent_path = department.path[: -Department.steplen]
        if parent_path in nodes:
            nodes[parent_path]["children"].append(node)
        else:
            roots.append(node)
    return roots


def friend_request_list_for_user(*, user: User) -> dict[str, QuerySet[FriendRequest]]:
    base = FriendRequest.objects.select_related("from_user", "to_user")
    return {
        "incoming": base.filter(to_user=user),
        "outgoing": base.filter(from_user=user),
    }


def friend_request_get_for_user(*, user: User, request_id: int) -> FriendRequest:
    """A friend request that ``user`` sent or received; anyone else is told it does not exist."""
    friend_request = (
        FriendRequest.objects.select_related("from_user", "to_user")
        .filter(Q(from_user=user) | Q(to_user=user), id=request_id)
        .first()
    )
    if friend_request is None:
        raise ApplicationError(_("No such friend request."), code="not_found")
    return friend_request
