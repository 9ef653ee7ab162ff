"""Reads for SCIM: the calling integration, Users and Groups as pages of rows prefetched in
a fixed number of queries, and SCIM filters turned into database conditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.dateparse import parse_datetime

from accounts.models import User
from contacts.models import Department, Membership
from integrations.models import Client

from .errors import ScimError, not_found
from .filters import And, AttrPath, Compare, Node, Not, Or, Present, ValuePath, _compare
from .models import ScimGroup, ScimUser
from .schemas import ENTERPRISE_USER, GROUP, USER


def client_for_token(token) -> Client:
    client = (
        Client.objects.filter(application_id=token.application_id, revoked_at__isnull=True)
        .select_related("application")
        .first()
    )
    if client is None:
        raise ScimError("This token's client is not a registered integration.", status=403)
    return client


# --- querysets ---------------------------------------------------------------------------


def users_queryset() -> QuerySet[User]:
    """Everyone SCIM may see: people, never service accounts."""
    return User.objects.filter(is_service_account=False)


def _user_prefetches(client: Client) -> list[Prefetch]:
    return [
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("department").order_by("-is_primary", "id"),
            to_attr="scim_memberships",
        ),
        Prefetch("scim_links", queryset=ScimUser.objects.filter(client=client), to_attr="scim_client_links"),
    ]


def _group_prefetches(client: Client, *, with_members: bool) -> list[Prefetch]:
    prefetches = [
        Prefetch("scim_links", queryset=ScimGroup.objects.filter(client=client), to_attr="scim_client_links")
    ]
    if with_members:
        members = (
            Membership.objects.filter(user__is_service_account=False)
            .select_related("user")
            .only(
                "id", "user", "department_id",
                "user__username", "user__display_name", "user__first_name", "user__last_name",
            )
            .order_by("user_id")
        )
        prefetches.append(Prefetch("memberships", queryset=members, to_attr="scim_members"))
    return prefetches


def resource_pk(resource_id: str) -> int:
    if not isinstance(resource_id, str) or not resource_id.isdigit() or len(resource_id) > 18:
        raise not_found()
    return int(resource_id)


def user_get(*, client: Client, user_id: str) -> User:
    user = users_queryset().filter(pk=resource_pk(user_id)).prefetch_related(*_user_prefetches(client)).first()
    if user is None:
        raise not_found(f"No User {user_id}.")
    return user


def group_get(*, client: Client, group_id: str, with_members: bool = True) -> Department:
    department = (
        Department.objects.filter(pk=resource_pk(group_id))
        .prefetch_related(*_group_prefetches(client, with_members=with_members))
        .first()
    )
    if department is None:
        raise not_found(f"No Group {group_id}.")
    return department


@dataclass(frozen=True)
class Page:
    total: int
    rows: list


def _page(queryset: QuerySet, *, start_index: int, count: int, prefetches: list[Prefetch]) -> Page:
    total = queryset.count()
    if count == 0 or start_index > total:
        return Page(total, [])
    offset = start_index - 1
    rows = list(queryset.order_by("pk").prefetch_related(*prefetches)[offset : offset + count])
    return Page(total, rows)


def user_list(*, client: Client, filter_node: Node | None, start_index: int, count: int) -> Page:
    queryset = _filtered(users_queryset(), filter_node, _user_attributes(client), core=USER)
    return _page(queryset, start_index=start_index, count=count, prefetches=_user_prefetches(client))


def group_list(*, client: Client, filter_node: Node | None, start_index: int, count: int, with_members: bool) -> Page:
    queryset = _filtered(Department.objects.all(), filter_node, _group_attributes(client), core=GROUP)
    return _page(
        queryset, start_index=start_index, count=count, prefetches=_group_prefetches(client, with_members=with_members)
    )


# --- filters as database conditions -----------------------------------------------------
#
# Each filterable attribute turns (operator, value) into a Q, or into True/False when the
# answer does not depend on the row. Multi-valued and per-client attributes are subqueries
# (``pk__in``), so that no filter duplicates rows or grows the number of queries.

Condition = Q | bool


def _and(a: Condition, b: Condition) -> Condition:
    if a is False or b is False:
        return False
    if a is True:
        return b
    return a if b is True else a & b


def _or(a: Condition, b: Condition) -> Condition:
    if a is True or b is True:
        return True
    if a is False:
        return b
    return a if b is False else a | b


def _not(a: Condition) -> Condition:
    return (not a) if isinstance(a, bool) else ~a


_STRING_LOOKUPS = {"co": "contains", "sw": "startswith", "ew": "endswith", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


def _invalid(detail: str) -> ScimError:
    return ScimError(detail, scim_type="invalidFilter")


@dataclass(frozen=True)
class _Field:
    """One attribute stored in ``fields`` (any of them matching) of ``queryset``'s rows
    (the resource's own rows when ``queryset`` is None, else rows pointing at it by ``fk``)."""

    fields: tuple[str, ...]
    kind: str = "string"  # string, boolean, datetime, id
    case_exact: bool = False
    queryset: Callable[[], QuerySet] | None = None
    fk: str = ""

    def condition(self, op: str, value: Any, name: str) -> Condition:
        if op == "ne":
            return _not(self.condition("eq", value, name))
        if op == "pr":
            if self.kind == "string":
                q = Q()
                for field in self.fields:
                    q |= Q(**{f"{field}__isnull": False}) & ~Q(**{field: ""})
            else:
                q = Q(**{f"{self.fields[0]}__isnull": False})
            return self._scoped(q)
        q = Q()
        for field in self.fields:
            q |= self._lookup(field, op, value, name)
        return self._scoped(q)

    def _lookup(self, field: str, op: str, value: Any, name: str) -> Q:
        if self.kind == "boolean":
            if op != "eq" or not isinstance(value, bool):
                raise _invalid(f"{name} compares only with eq or ne and true or false.")
            return Q(**{field: value})
        if self.kind == "id":
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if op != "eq" or not isinstance(value, str):
                raise _invalid(f"{name} compares only with eq or ne and a string.")
            return Q(**{field: int(value)}) if value.isdigit() and len(value) <= 18 else Q(pk__in=[])
        if self.kind == "datetime":
            moment = parse_datetime(value) if isinstance(value, str) else None
            if moment is None or op in ("co", "sw", "ew"):
                raise _invalid(f"{name} compares with eq, gt, ge, lt or le and a date-time string.")
            lookup = "exact" if op == "eq" else _STRING_LOOKUPS[op]
            return Q(**{f"{field}__{lookup}": moment})
        if not isinstance(value, str):
            raise _invalid(f"{name} compares with a string.")
        if op == "eq":
            return Q(**{f"{field}__{'exact' if self.case_exact else 'iexact'}": value})
        lookup = _STRING_LOOKUPS[op]
        if op in ("co", "sw", "ew") and not self.case_exact:
            lookup = "i" + lookup
        return Q(**{f"{field}__{lookup}": value})

    def _scoped(self, q: Q) -> Q:
        if self.queryset is None:
            return q
        return Q(pk__in=self.queryset().filter(q).values(self.fk))


@dataclass(frozen=True)
class _Constant:
    """A sub-attribute with one value for every row (Switchboard's one email is "work")."""

    value: Any

    def condition(self, op: str, value: Any, name: str) -> Condition:
        return self.value is not None if op == "pr" else _compare(self.value, op, value)


def _user_attributes(client: Client) -> dict[str, Any]:
    enterprise = ENTERPRISE_USER.lower()
    primary = lambda: Membership.objects.filter(is_primary=True)  # noqa: E731
    memberships = lambda: Membership.objects.all()  # noqa: E731
    email, phone = _Field(("email",)), _Field(("phone",))
    groups = _Field(("department_id",), kind="id", queryset=memberships, fk="user_id")
    return {
        "id": _Field(("pk",), kind="id"),
        "externalid": _Field(
            ("external_id",), case_exact=True, queryset=lambda: ScimUser.objects.filter(client=client), fk="user_id"
        ),
        "username": _Field(("username",)),
        "displayname": _Field(("display_name",)),
        "name.givenname": _Field(("first_name",)),
        "name.familyname": _Field(("last_name",)),
        "title": _Field(("title",)),
        "active": _Field(("is_active",), kind="boolean"),
        "emails": email,
        "emails.value": email,
        "emails.type": _Constant("work"),
        "emails.primary": _Constant(True),
        "phonenumbers": phone,
        "phonenumbers.value": phone,
        "phonenumbers.type": _Constant("work"),
        "phonenumbers.primary": _Constant(True),
        "groups": groups,
        "groups.value": groups,
        "groups.display": _Field(("department__name",), queryset=memberships, fk="user_id"),
        "meta.created": _Field(("date_joined",), kind="datetime"),
        f"{enterprise}:employeenumber": _Field(("employee_number",)),
        f"{enterprise}:department": _Field(("department__code", "department__name"), queryset=primary, fk="user_id"),
    }


def _group_attributes(client: Client) -> dict[str, Any]:
    people = lambda: Membership.objects.filter(user__is_service_account=False)  # noqa: E731
    members = _Field(("user_id",), kind="id", queryset=people, fk="department_id")
    return {
        "id": _Field(("pk",), kind="id"),
        "externalid": _Field(
            ("external_id",), case_exact=True, queryset=lambda: ScimGroup.objects.filter(client=client), fk="department_id"
        ),
        "displayname": _Field(("name",)),
        "members": members,
        "members.value": members,
        "members.type": _Constant("User"),
    }


# Where a value filter's terms are evaluated: the presence of a value, and which of the
# multi-valued attribute's sub-attributes stand for themselves.
_PRESENCE = {"emails", "phonenumbers", "groups", "members"}


def _key(path: AttrPath, core: str) -> str:
    return AttrPath(None, path.attr, path.sub).key if path.schema == core else path.key


def _compile(node: Node, attributes: dict[str, Any], *, core: str, prefix: str = "") -> Condition:
    def inner(child: Node) -> Condition:
        return _compile(child, attributes, core=core, prefix=prefix)

    if isinstance(node, And):
        return _and(inner(node.left), inner(node.right))
    if isinstance(node, Or):
        return _or(inner(node.left), inner(node.right))
    if isinstance(node, Not):
        return _not(inner(node.node))
    if isinstance(node, ValuePath):
        key = _key(node.path, core)
        if prefix or key not in _PRESENCE:
            raise _invalid(f"{node.path.attr} does not take a value filter here.")
        inner = _compile(node.node, attributes, core=core, prefix=key + ".")
        return _and(attributes[key].condition("pr", None, key), inner)
    if prefix and (node.path.schema or node.path.sub):
        raise _invalid("Inside a value filter, name sub-attributes only.")
    key = prefix + _key(node.path, core)
    attribute = attributes.get(key)
    shown = ".".join(p for p in (node.path.attr, node.path.sub) if p)
    if attribute is None:
        raise _invalid(f"{shown} cannot be filtered on.")
    if isinstance(node, Present):
        return attribute.condition("pr", None, shown)
    assert isinstance(node, Compare)
    return attribute.condition(node.op, node.value, shown)


def _filtered(queryset: QuerySet, node: Node | None, attributes: dict[str, Any], *, core: str) -> QuerySet:
    if node is None:
        return queryset
    condition = _compile(node, attributes, core=core)
    if condition is True:
        return queryset
    if condition is False:
        return queryset.none()
    return queryset.filter(condition)
