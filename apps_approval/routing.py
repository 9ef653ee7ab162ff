"""Who approves: a template's step specs turned into people for one requester and one form."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from accounts.models import User
from contacts.models import Department
from contacts.selectors import primary_department_for_user

APPROVER_KINDS = ("manager", "next_manager", "users", "department_managers")
OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne}


@dataclass
class ResolvedStep:
    index: int
    name: str
    mode: str
    approvers: list[User]


def derived_values(data: dict[str, Any]) -> dict[str, Any]:
    """The form plus values computed from it that conditions may use (``days`` of a leave)."""
    values = dict(data)
    try:
        start, end = date.fromisoformat(str(data["start"])[:10]), date.fromisoformat(str(data["end"])[:10])
    except (KeyError, ValueError):
        return values
    values.setdefault("days", (end - start).days + 1)
    return values


def condition_holds(condition: dict[str, Any] | None, values: dict[str, Any]) -> bool:
    if not condition:
        return True
    compare = OPERATORS[condition["op"]]
    left = values.get(condition["field"])
    if left is None:
        return False
    try:
        return compare(Decimal(str(left)), Decimal(str(condition["value"])))
    except (InvalidOperation, TypeError):
        return compare(str(left), str(condition["value"]))


def _managers_up_from(department: Department | None, *, skip: set[int]) -> list[User]:
    """Managers from ``department`` up to the root, without the people in ``skip``."""
    chain: list[User] = []
    while department is not None:
        manager = department.manager
        if manager is not None and manager.pk not in skip and manager.is_active and manager not in chain:
            chain.append(manager)
        department = Department.objects.get_parent(department)
    return chain


def _resolve(spec: dict[str, Any], requester: User) -> list[User]:
    kind = spec.get("kind")
    if kind in ("manager", "next_manager"):
        # A manager's own request goes to the next manager up.
        chain = _managers_up_from(primary_department_for_user(user=requester), skip={requester.pk})
        position = 0 if kind == "manager" else 1
        return chain[position : position + 1]
    if kind == "users":
        return list(User.objects.filter(username__in=spec.get("users", []), is_active=True).order_by("username"))
    if kind == "department_managers":
        department = Department.objects.filter(code=spec.get("department")).select_related("manager").first()
        manager = department.manager if department else None
        return [manager] if manager is not None and manager.is_active else []
    raise ValueError(f"unknown approver kind {kind!r}")


def resolve_chain(*, steps: list[dict[str, Any]], requester: User, data: dict[str, Any]) -> list[ResolvedStep]:
    """The steps that apply to this form, each with its approvers (never the requester).

    A step whose condition fails, or that finds nobody, is left out; so is a step whose
    approvers are exactly the previous step's (they have already said yes by then).
    """
    values = derived_values(data)
    resolved: list[ResolvedStep] = []
    for spec in steps:
        if not condition_holds(spec.get("condition"), values):
            continue
        approvers = [u for u in _resolve(spec.get("approvers", {}), requester) if u.pk != requester.pk]
        if not approvers:
            continue
        if resolved and {u.pk for u in resolved[-1].approvers} == {u.pk for u in approvers}:
            continue
        resolved.append(ResolvedStep(len(resolved), spec.get("name", ""), spec.get("mode", "any"), approvers))
    return resolved


def resolve_cc(*, specs: list[dict[str, Any]], requester: User) -> list[User]:
    people: list[User] = []
    for spec in specs:
        for user in _resolve(spec, requester):
            if user.pk != requester.pk and user not in people:
                people.append(user)
    return people
