"""Who may see and talk to whom: the one place that decides.

- A sees B when one of A's departments has a visibility rule that covers B, or when A and
  B are friends (an accepted friend request). A department with no rule sees itself.
- A may talk to B when A sees B, or B sees A (so a reply is always possible).
- ``explain(a, b)`` says which rule or friendship grants it, or that none does.

The policy class is named in ``SWITCHBOARD_POLICY_CLASS`` so that an organisation can swap
in its own, the way django-oauth-toolkit swaps its validator.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection
from django.db.models import Q
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import User
from core.cache import KeptUnderVersion

from .models import Department, FriendRequest, Membership, VisibilityRule


@dataclass(frozen=True)
class Grant:
    """What one rule (or the implicit default) of one department lets its people see.

    A department is covered when its id is in ``exact_ids`` or its tree path starts with
    one of ``prefixes`` (a rule that includes sub-departments).
    """

    department: Department
    kind: str
    rule_id: int | None
    exact_ids: frozenset[int] = frozenset()
    prefixes: tuple[str, ...] = ()
    all_managers: bool = False
    seen_names: tuple[str, ...] = ()

    def covers_department(self, department: Department) -> bool:
        return department.id in self.exact_ids or department.path.startswith(self.prefixes)

    def covers(self, person: Person) -> bool:
        if self.all_managers and person.is_manager:
            return True
        return any(self.covers_department(d) for d in person.departments)

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


@dataclass
class Person:
    """A user with the departments they belong to (member of or manager of)."""

    user: User
    departments: list[Department]
    is_manager: bool
    grants: list[Grant] = field(default_factory=list)


class RulePolicy:
    """The policy of docs/architecture.md and docs/address-book.md, with visibility rules stored as data."""

    # --- loading -------------------------------------------------------------------------
    def __init__(self) -> None:
        # {user id: (departments, is_manager, grants)}: what _people read, kept while the
        # version stays. The version changes with every write to the tables it comes
        # from (contacts migration 0002), so an entry is never stale.
        self._known: KeptUnderVersion[dict[int, tuple[list[Department], bool, list[Grant]]]] = KeptUnderVersion(
            dict, MAX_KNOWN_PEOPLE, version=policy_version
        )

    def _people(self, users: list[User]) -> dict[int, Person]:
        """Departments and grants of a few users: one query when they are known at the
        current policy version, three more for those who are not, whatever their number."""
        known = self._known.current()
        missing = [u.pk for u in users if u.pk not in known]
        if missing:
            # Read after the version, so what is read is at least as new as the version.
            known.update(self._people_read(missing))
        people = {}
        for user in users:
            departments, is_manager, grants = known[user.pk]
            people[user.pk] = Person(user=user, departments=departments, is_manager=is_manager, grants=grants)
        return people

    def _people_read(self, ids: list[int]) -> dict[int, tuple[list[Department], bool, list[Grant]]]:
        departments = list(
            Department.objects.filter(Q(memberships__user_id__in=ids) | Q(manager_id__in=ids)).distinct()
        )
        position = {department.id: index for index, department in enumerate(departments)}
        by_id = {department.id: department for department in departments}
        mine: dict[int, set[int]] = {pk: set() for pk in ids}
        managing: set[int] = set()
        for user_id, department_id in Membership.objects.filter(user_id__in=ids).values_list(
            "user_id", "department_id"
        ):
            mine[user_id].add(department_id)
        for department in departments:
            if department.manager_id in mine:
                mine[department.manager_id].add(department.id)
                managing.add(department.manager_id)
        rules_by_department: dict[int, list[VisibilityRule]] = {}
        if departments:
            for rule in VisibilityRule.objects.filter(department_id__in=by_id).prefetch_related("targets"):
                rules_by_department.setdefault(rule.department_id, []).append(rule)
        grants_by_department = {
            department.id: self._grants_of(department, rules_by_department.get(department.id, []))
            for department in departments
        }
        return {
            pk: (
                [by_id[i] for i in sorted(department_ids, key=position.__getitem__)],
                pk in managing,
                [grant for i in sorted(department_ids) for grant in grants_by_department[i]],
            )
            for pk, department_ids in mine.items()
        }

    def _grants_of(self, department: Department, rules: list[VisibilityRule]) -> list[Grant]:
        if not rules:
            return [
                Grant(
                    department=department,
                    kind=VisibilityRule.Kind.OWN_DEPARTMENT,
                    rule_id=None,
                    exact_ids=frozenset({department.id}),
                )
            ]
        grants = []
        for rule in rules:
            if rule.kind == VisibilityRule.Kind.ALL_MANAGERS:
                grants.append(Grant(department=department, kind=rule.kind, rule_id=rule.id, all_managers=True))
                continue
            seen = (
                [department]
                if rule.kind == VisibilityRule.Kind.OWN_DEPARTMENT
                else sorted(rule.targets.all(), key=lambda d: d.path)
            )
            grants.append(
                Grant(
                    department=department,
                    kind=rule.kind,
                    rule_id=rule.id,
                    exact_ids=frozenset() if rule.include_subdepartments else frozenset(d.id for d in seen),
                    prefixes=tuple(d.path for d in seen) if rule.include_subdepartments else (),
                    seen_names=tuple(d.name for d in seen),
                )
            )
        return grants

    def _pair(self, a: User, b: User) -> tuple[Person, Person]:
        people = self._people([a, b])
        return people[a.pk], people[b.pk]

    def grants_for(self, user: User) -> list[Grant]:
        return self._people([user])[user.pk].grants

    # --- friendship ----------------------------------------------------------------------
    def friend_ids(self, user: User) -> set[int]:
        pairs = FriendRequest.objects.filter(
            Q(from_user=user) | Q(to_user=user), status=FriendRequest.Status.ACCEPTED
        ).values_list("from_user_id", "to_user_id")
        return {other for pair in pairs for other in pair} - {user.id}

    def are_friends(self, a: User, b: User) -> bool:
        return bool(self._friend_pairs([(a, b)]))

    def _friend_pairs(self, pairs: list[tuple[User, User]]) -> set[frozenset[int]]:
        """Which of these pairs are friends, in one query (none for no pairs)."""
        if not pairs:
            return set()
        if len(pairs) > FRIEND_PAIRS_ONE_BY_ONE:
            # Many pairs (a group's new members and its members, say): the friendships
            # among their people, in one query of two lists instead of a clause a pair.
            ids = {u.pk for pair in pairs for u in pair}
            wanted = {frozenset((a.pk, b.pk)) for a, b in pairs}
            among = FriendRequest.objects.filter(
                from_user_id__in=ids, to_user_id__in=ids, status=FriendRequest.Status.ACCEPTED
            ).values_list("from_user_id", "to_user_id")
            return {pair for pair in map(frozenset, among) if pair in wanted}
        either_way = Q()
        for a, b in pairs:
            either_way |= Q(from_user_id=a.pk, to_user_id=b.pk) | Q(from_user_id=b.pk, to_user_id=a.pk)
        accepted = FriendRequest.objects.filter(either_way, status=FriendRequest.Status.ACCEPTED)
        return {frozenset(pair) for pair in accepted.values_list("from_user_id", "to_user_id")}

    # --- sets ----------------------------------------------------------------------------
    def _rule_visible_ids(self, user: User) -> set[int]:
        """Everyone the rules let ``user`` see, active or not."""
        grants = self.grants_for(user)
        covered = Q(id__in=set().union(set(), *(g.exact_ids for g in grants)))
        for prefix in {p for g in grants for p in g.prefixes}:
            covered |= Q(path__startswith=prefix)
        ids: set[int] = set()
        department_ids: set[int] = set()
        for department_id, manager_id in Department.objects.filter(covered).values_list("id", "manager_id"):
            department_ids.add(department_id)
            if manager_id:
                ids.add(manager_id)
        if any(g.all_managers for g in grants):
            ids |= set(
                Department.objects.filter(manager__isnull=False).values_list("manager_id", flat=True)
            )
        ids |= set(
            Membership.objects.filter(department_id__in=department_ids).values_list("user_id", flat=True)
        )
        return ids

    def contact_ids(self, user: User) -> set[int]:
        """A person's contacts: what the rules grant plus accepted friends (active people only)."""
        ids = (self._rule_visible_ids(user) | self.friend_ids(user)) - {user.id}
        return set(User.objects.filter(id__in=ids, is_active=True).values_list("id", flat=True))

    def watcher_ids(self, user: User) -> set[int]:
        """Everyone who sees ``user``: the people their presence goes to."""
        person = self._people([user])[user.pk]
        watching_departments: set[int] = set()
        rules = VisibilityRule.objects.select_related("department").prefetch_related("targets")
        ruled = set()
        for rule in rules:
            ruled.add(rule.department_id)
            grant = self._grants_of(rule.department, [rule])[0]
            if grant.covers(person):
                watching_departments.add(rule.department_id)
        # A department with no rule sees itself.
        watching_departments |= {d.id for d in person.departments if d.id not in ruled}
        ids = set(
            Membership.objects.filter(department_id__in=watching_departments).values_list("user_id", flat=True)
        ) | set(
            Department.objects.filter(id__in=watching_departments, manager__isnull=False).values_list(
                "manager_id", flat=True
            )
        )
        ids = (ids | self.friend_ids(user)) - {user.id}
        return set(User.objects.filter(id__in=ids, is_active=True).values_list("id", flat=True))

    # --- decisions -----------------------------------------------------------------------
    def may_see(self, a: User, b: User) -> bool:
        if a.pk == b.pk:
            return True
        if not (a.is_active and b.is_active):
            return False
        viewer, target = self._pair(a, b)
        return any(g.covers(target) for g in viewer.grants) or self.are_friends(a, b)

    def may_talk(self, a: User, b: User) -> bool:
        return self.may_talk_many([(a, b)])[0]

    def may_talk_many(self, pairs: list[tuple[User, User]]) -> list[bool]:
        """``may_talk`` for several pairs at once (a batch of sends), in the same few
        queries as for one pair: the people's grants, then friendship for the pairs no
        rule lets talk."""
        people = self._people(list({u.pk: u for pair in pairs for u in pair}.values()))
        decisions: list[bool | None] = []
        for a, b in pairs:
            if a.pk == b.pk or not (a.is_active and b.is_active):
                decisions.append(False)
                continue
            pa, pb = people[a.pk], people[b.pk]
            granted = any(g.covers(pb) for g in pa.grants) or any(g.covers(pa) for g in pb.grants)
            decisions.append(True if granted else None)
        undecided = [pair for pair, decision in zip(pairs, decisions) if decision is None]
        friends = self._friend_pairs(undecided)
        return [
            decision if decision is not None else frozenset((a.pk, b.pk)) in friends
            for (a, b), decision in zip(pairs, decisions)
        ]

    def explain(self, a: User, b: User) -> Explanation:
        if a.pk == b.pk:
            return Explanation(True, False, [_("That is the same person.")])
        inactive = [u for u in (a, b) if not u.is_active]
        if inactive:
            return Explanation(
                False,
                False,
                [_("%(user)s's account is deactivated.") % {"user": u.username} for u in inactive],
            )
        pa, pb = self._pair(a, b)
        a_sees_b = [g for g in pa.grants if g.covers(pb)]
        b_sees_a = [g for g in pb.grants if g.covers(pa)]
        friends = self.are_friends(a, b)
        reasons: list[str] = []
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


# Past this many pairs, friendship is read for their people at once (RulePolicy._friend_pairs).
FRIEND_PAIRS_ONE_BY_ONE = 100

# Past this many people a worker's policy cache starts again.
MAX_KNOWN_PEOPLE = 50_000

_pinned = threading.local()
_NOT_PINNED = object()


def policy_version() -> int | None:
    """The policy version (contacts migration 0002): changed by every write to
    departments, memberships and visibility rules, and to what a send's checks read
    (messaging migration 0003); None on a database without it. Inside
    :func:`one_policy_version`, the value read when it began."""
    pinned = getattr(_pinned, "version", _NOT_PINNED)
    if pinned is not _NOT_PINNED:
        return pinned
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM contacts_policy_version WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


@contextlib.contextmanager
def one_policy_version():
    """Read the policy version once for everything this thread decides inside: the checks
    of one batch of sends share one read (what they then read is at least as new)."""
    if getattr(_pinned, "version", _NOT_PINNED) is not _NOT_PINNED:
        yield
        return
    _pinned.version = policy_version()
    try:
        yield
    finally:
        del _pinned.version


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


def may_talk_many(pairs: list[tuple[User, User]]) -> list[bool]:
    """``may_talk`` for each pair; a policy class without a batch form is asked pair by pair."""
    policy = get_policy()
    batch = getattr(policy, "may_talk_many", None)
    return batch(pairs) if batch is not None else [policy.may_talk(a, b) for a, b in pairs]


def contact_ids(user: User) -> set[int]:
    return get_policy().contact_ids(user)


def watcher_ids(user: User) -> set[int]:
    return get_policy().watcher_ids(user)


def explain(a: User, b: User) -> Explanation:
    return get_policy().explain(a, b)
