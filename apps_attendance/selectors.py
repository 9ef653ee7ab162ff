"""Reads for attendance: a month of days, for me or (for a manager) my department's people."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contacts.models import Department, Membership
from imsite.errors import ApplicationError

from .models import DayResult, Punch


def month_bounds(month: Any) -> tuple[date, date]:
    try:
        first = datetime.strptime(str(month), "%Y-%m").date()
    except ValueError:
        raise ApplicationError(_("month must look like 2026-11."), code="invalid") from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def people_for_viewer(*, viewer: User, department_code: str | None = None, username: str | None = None) -> list[User]:
    """Whose days the viewer may see: their own; a manager also their departments' people."""
    if not department_code and not username:
        return [viewer]
    managed = Department.objects.filter(manager=viewer)
    if department_code:
        department = managed.filter(code=department_code).first()
        if department is None:
            raise ApplicationError(_("You can see the days of your own department's people only."), code="not_permitted")
        ids = set(Membership.objects.filter(department=department).values_list("user_id", flat=True))
        return list(User.objects.filter(pk__in=ids, is_active=True).order_by("username"))
    person = User.objects.filter(username=username, is_active=True).first()
    if person is None or not (
        person.pk == viewer.pk or Membership.objects.filter(user=person, department__in=managed).exists()
    ):
        raise ApplicationError(_("You can see the days of your own department's people only."), code="not_permitted")
    return [person]


def days_for(*, users: list[User], first: date, last: date) -> list[dict]:
    results = {(r.user_id, r.date): r for r in DayResult.objects.filter(user__in=users, date__range=(first, last))}
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), datetime.min.time()))
    punches: dict[tuple[int, date], list[dict]] = {}
    for punch in Punch.objects.filter(user__in=users, at__gte=start, at__lt=end).order_by("at"):
        local = timezone.localtime(punch.at)
        punches.setdefault((punch.user_id, local.date()), []).append(
            {"kind": punch.kind, "at": local.isoformat(), "source": punch.source}
        )
    rows = []
    for user in users:
        day = first
        while day <= last:
            result = results.get((user.pk, day))
            rows.append(
                {
                    "user": user.username,
                    "date": day.isoformat(),
                    "status": result.status if result else None,
                    "minutes_late": result.minutes_late if result else 0,
                    "minutes_early": result.minutes_early if result else 0,
                    "punches": punches.get((user.pk, day), []),
                }
            )
            day += timedelta(days=1)
    return rows
