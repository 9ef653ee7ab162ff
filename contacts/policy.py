"""Who may see and talk to whom: the one place that decides.

- A sees B when one of A's departments has a visibility rule that covers B, or when A and
  B are friends (an accepted friend request). A department with no rule sees itself.
- A may talk to B when A sees B, or B sees A (so a reply is always possible).
- ``explain(a, b)`` says which rule or friendship grants it, or that none does.

The policy class is named in ``SWITCHBOARD_POLICY_CLASS`` so that an organisation can swap
in its own, the way django-oauth-toolkit swaps its validator.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from operator import or_

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import Q
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import User

from .models import Department, FriendRequest, Membership, VisibilityRule


@dataclass(frozen=True)
class Grant:
    """What one rule (or the implicit default) of one department lets its people see."""

    department: Department
    kind: str
    rule_id: int | None
    department_ids: frozenset[int] = frozenset()
    all_managers: bool = False
    seen_names: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.rule_id is None:
            return _("%(department)s has no rule, so it sees itself") % {
                "department": self.department.name
            }
        if self.all_managers:
            seen = _("the manager of every department")
        elif self.kind == VisibilityRule.Kind.OWN_DEPARTMENT:
            seen = _("its own department")
        else:
            seen = ", ".join(self.seen_names)
        return _("rule #%(id)s (%(department)s sees %(seen)s)") % {
            "id": self.rule_id,
            "department": self.department.name,
            "seen": seen,
        }


@dataclass
class Explanation:
    may_see: bool
    may_talk: bool
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"may_see": self.may_see, "may_talk": self.may_talk, "reasons": self.reasons}


def _department_ids_of(user: User) -> set[int]:
    """The departments a person belongs to: memberships and the ones they manage."""
    member_of = Membership.objects.filter(user=user).values_list("department_id", flat=True)
    manages = Department.objects.filter(manager=user).values_list("id", flat=True)
    return set(member_of) | set(manages)


def _with_descendants(departments: list[Department]) -> set[int]:
    if not departments:
        return set()
    query = functools.reduce(or_, (Q(path__startswith=d.path) for d in departments))
    return set(Department.objects.filter(query).values_list("id", flat=True))


def _people_in(department_ids: set[int]) -> set[int]:
    members = Membership.objects.filter(department_id__in=department_ids).values_list(
        "user_id", flat=True
    )
    managers = Department.objects.filter(id__in=department_ids, manager__isnull=False).values_list(
        "manager_id", flat=True
    )
    return set(members) | set(managers)


def _all_manager_ids() -> set[int]:
    return set(
        Department.objects.filter(manager__isnull=False).values_list("manager_id", flat=True)
    )


class RulePolicy:
    """The policy DESIGN.md describes, with visibility rules stored as data."""

    def grants_for(self, user: User) -> list[Grant]:
        own_ids = _department_ids_of(user)
        if not own_ids:
            return []
        departments = {d.id: d for d in Department.objects.filter(id__in=own_ids)}
        rules_by_department: dict[int, list[VisibilityRule]] = {}
        for rule in VisibilityRule.objects.filter(department_id__in=own_ids).prefetch_related(
            "targets"
        ):
            rules_by_department.setdefault(rule.department_id, []).append(rule)

        grants: list[Grant] = []
        for department_id, department in sorted(departments.items()):
            rules = rules_by_department.get(department_id)
            if not rules:
                grants.append(
                    Grant(
                        department=department,
                        kind=VisibilityRule.Kind.OWN_DEPARTMENT,
                        rule_id=None,
                        department_ids=frozenset({department_id}),
                    )
                )
                continue
            for rule in rules:
                if rule.kind == VisibilityRule.Kind.ALL_MANAGERS:
                    grants.append(
                        Grant(department=department, kind=rule.kind, rule_id=rule.id, all_managers=True)
                    )
                    continue
                seen = [department] if rule.kind == VisibilityRule.Kind.OWN_DEPARTMENT else list(
                    rule.targets.all()
                )
                ids = (
                    _with_descendants(seen)
                    if rule.include_subdepartments
                    else {d.id for d in seen}
                )
                grants.append(
                    Grant(
                        department=department,
                        kind=rule.kind,
                        rule_id=rule.id,
                        department_ids=frozenset(ids),
                        seen_names=tuple(d.name for d in seen),
                    )
                )
        return grants

    def friend_ids(self, user: User) -> set[int]:
        pairs = FriendRequest.objects.filter(
            Q(from_user=user) | Q(to_user=user), status=FriendRequest.Status.ACCEPTED
        ).values_list("from_user_id", "to_user_id")
        return {other for pair in pairs for other in pair} - {user.id}

    def are_friends(self, a: User, b: User) -> bool:
        return FriendRequest.objects.filter(
            Q(from_user=a, to_user=b) | Q(from_user=b, to_user=a),
            status=FriendRequest.Status.ACCEPTED,
        ).exists()

    def _rule_visible_ids(self, user: User) -> set[int]:
        """Everyone the rules let ``user`` see, active or not."""
        grants = self.grants_for(user)
        department_ids: set[int] = set().union(*(g.department_ids for g in grants))
        ids = _people_in(department_ids)
        if any(g.all_managers for g in grants):
            ids |= _all_manager_ids()
        return ids

    def contact_ids(self, user: User) -> set[int]:
        """A person's contacts: what the rules grant plus accepted friends (active people only)."""
        ids = (self._rule_visible_ids(user) | self.friend_ids(user)) - {user.id}
        return set(User.objects.filter(id__in=ids, is_active=True).values_list("id", flat=True))

    def _covering_grants(self, viewer: User, target: User) -> list[Grant]:
        grants = self.grants_for(viewer)
        if not grants:
            return []
        target_departments = _department_ids_of(target)
        target_is_manager = any(g.all_managers for g in grants) and Department.objects.filter(
            manager=target
        ).exists()
        return [
            g
            for g in grants
            if g.department_ids & target_departments or (g.all_managers and target_is_manager)
        ]

    def may_see(self, a: User, b: User) -> bool:
        if a.pk == b.pk:
            return True
        if not (a.is_active and b.is_active):
            return False
        return bool(self._covering_grants(a, b)) or self.are_friends(a, b)

    def may_talk(self, a: User, b: User) -> bool:
        if a.pk == b.pk or not (a.is_active and b.is_active):
            return False
        return (
            bool(self._covering_grants(a, b))
            or bool(self._covering_grants(b, a))
            or self.are_friends(a, b)
        )

    def explain(self, a: User, b: User) -> Explanation:
        if a.pk == b.pk:
            return Explanation(True, False, [_("That is the same person.")])
        reasons: list[str] = []
        inactive = [u for u in (a, b) if not u.is_active]
        if inactive:
            return Explanation(
                False,
                False,
                [_("%(user)s's account is deactivated.") % {"user": u.username} for u in inactive],
            )
        a_sees_b = self._covering_grants(a, b)
        b_sees_a = self._covering_grants(b, a)
        friends = self.are_friends(a, b)
        for grant in a_sees_b:
            reasons.append(
                _("%(a)s sees %(b)s by %(grant)s.")
                % {"a": a.username, "b": b.username, "grant": grant.describe()}
            )
        for grant in b_sees_a:
            reasons.append(
                _("%(b)s sees %(a)s by %(grant)s, so %(a)s may reply.")
                % {"a": a.username, "b": b.username, "grant": grant.describe()}
            )
        if friends:
            reasons.append(
                _("%(a)s and %(b)s are friends (an accepted friend request).")
                % {"a": a.username, "b": b.username}
            )
        may_see = bool(a_sees_b) or friends
        may_talk = may_see or bool(b_sees_a)
        if not may_talk:
            reasons.append(
                _("No rule or friendship lets %(a)s see or talk to %(b)s.")
                % {"a": a.username, "b": b.username}
            )
        return Explanation(may_see, may_talk, reasons)


@functools.cache
def get_policy() -> RulePolicy:
    return import_string(settings.SWITCHBOARD_POLICY_CLASS)()


@receiver(setting_changed)
def _reset_policy(*, setting, **kwargs):
    if setting == "SWITCHBOARD_POLICY_CLASS":
        get_policy.cache_clear()


def may_see(a: User, b: User) -> bool:
    return get_policy().may_see(a, b)


def may_talk(a: User, b: User) -> bool:
    return get_policy().may_talk(a, b)


def contact_ids(user: User) -> set[int]:
    return get_policy().contact_ids(user)


def explain(a: User, b: User) -> Explanation:
    return get_policy().explain(a, b)
