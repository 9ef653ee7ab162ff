"""Reads for attendance: a month of days, for me or (for a manager) my department's people,
today's state, a team's month by person and by day, and the export's rows."""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contacts.models import Department, Membership
from contacts.selectors import departments_managed_by, departments_with_subdepartments
from core.errors import ApplicationError

from .models import DayResult, Holiday, Leave, Punch
from .services import Schedule, is_workday, schedule_for


def month_bounds(month: Any) -> tuple[date, date]:
    try:
        first = datetime.strptime(str(month), "%Y-%m").date()
    except ValueError:
        raise ApplicationError(_("month must look like 2026-11."), code="invalid") from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def people_for_viewer(*, viewer: User, department_code: str | None = None, username: str | None = None) -> list[User]:
    """Whose days the viewer may see: their own; a manager also the people of the
    departments they manage and of any department below them, by its code (the president's
    is the company)."""
    if not department_code and not username:
        return [viewer]
    visible = departments_managed_by(user=viewer)
    refused = ApplicationError(_("You can see the days of your own department's people only."), code="not_permitted")
    if department_code:
        department = visible.filter(code=department_code).first()
        if department is None:
            raise refused
        ids = Membership.objects.filter(department__in=departments_with_subdepartments([department])).values_list(
            "user_id", flat=True
        )
        return list(User.objects.filter(pk__in=ids, is_active=True, is_service_account=False).order_by("username"))
    person = User.objects.filter(username=username, is_active=True).first()
    if person is None or not (
        person.pk == viewer.pk or Membership.objects.filter(department__in=visible, user=person).exists()
    ):
        raise refused
    return [person]


@dataclass
class PersonDay:
    """One person's day: its result (if computed yet) and its punches in local time."""

    user: User
    date: date
    result: DayResult | None
    punches: list[Punch] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        return self.result.status if self.result else None

    @property
    def minutes_late(self) -> int:
        return self.result.minutes_late if self.result else 0

    @property
    def minutes_early(self) -> int:
        return self.result.minutes_early if self.result else 0

    @property
    def first_in(self) -> datetime | None:
        return next((p.at for p in self.punches if p.kind == Punch.Kind.CHECK_IN), None)

    @property
    def last_out(self) -> datetime | None:
        return next((p.at for p in reversed(self.punches) if p.kind == Punch.Kind.CHECK_OUT), None)


def _dates(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def person_days(*, users: list[User], first: date, last: date) -> list[PersonDay]:
    """Every day from ``first`` to ``last`` of each person, in the order given: two queries
    whatever the number of people and days."""
    results = {(r.user_id, r.date): r for r in DayResult.objects.filter(user__in=users, date__range=(first, last))}
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), datetime.min.time()))
    punches: dict[tuple[int, date], list[Punch]] = {}
    for punch in Punch.objects.filter(user__in=users, at__gte=start, at__lt=end).order_by("at"):
        punch.at = timezone.localtime(punch.at)
        punches.setdefault((punch.user_id, punch.at.date()), []).append(punch)
    return [
        PersonDay(user, day, results.get((user.pk, day)), punches.get((user.pk, day), []))
        for user in users
        for day in _dates(first, last)
    ]


def days_for(*, users: list[User], first: date, last: date) -> list[dict]:
    return [
        {
            "user": day.user.username,
            "date": day.date.isoformat(),
            "status": day.status,
            "minutes_late": day.minutes_late,
            "minutes_early": day.minutes_early,
            "punches": [{"kind": p.kind, "at": p.at.isoformat(), "source": p.source} for p in day.punches],
        }
        for day in person_days(users=users, first=first, last=last)
    ]


# ---------------------------------------------------------------------------------------
# Today, for the month page and the chat's banner
# ---------------------------------------------------------------------------------------
@dataclass
class Today:
    date: date
    schedule: Schedule
    workday: bool
    holiday: str
    on_leave: bool
    first_in: datetime | None
    last_out: datetime | None
    #: ``none`` (not checked in yet), ``in`` (checked in) or ``out`` (checked out last).
    state: str


def attendance_today(*, user: User) -> Today:
    """Today's schedule and where the person stands: checked in, out, or not yet."""
    today = timezone.localdate()
    schedule = schedule_for(user)
    workday = is_workday(today, schedule)
    holiday = "" if workday else Holiday.objects.filter(date=today).values_list("name", flat=True).first() or ""
    (day,) = person_days(users=[user], first=today, last=today)
    last = day.punches[-1] if day.punches else None
    return Today(
        date=today,
        schedule=schedule,
        workday=workday,
        holiday=holiday,
        on_leave=Leave.objects.filter(user=user, start__lte=today, end__gte=today).exists(),
        first_in=day.first_in,
        last_out=day.last_out,
        state="none" if last is None else "in" if last.kind == Punch.Kind.CHECK_IN else "out",
    )


# ---------------------------------------------------------------------------------------
# Managers: their departments, a month's summary per person and per day, the exports
# ---------------------------------------------------------------------------------------
#: Days that count as being at work, and days on which work was expected (approved leave
#: and rest days are neither).
PRESENT_STATUSES = (
    DayResult.Status.NORMAL,
    DayResult.Status.LATE,
    DayResult.Status.EARLY_LEAVE,
    DayResult.Status.MISSING_PUNCH,
)
EXPECTED_STATUSES = (*PRESENT_STATUSES, DayResult.Status.ABSENT)


def managed_departments(*, viewer: User) -> list[Department]:
    """The departments the viewer manages and those below them, in the tree's order, with
    how many people each has of its own (``people``)."""
    return list(departments_managed_by(user=viewer).annotate(people=Count("memberships")).order_by("path"))


def last_closed_day(last: date) -> date:
    """The last day of a period that is over: today is still open until its end."""
    return min(last, timezone.localdate() - timedelta(days=1))


def rate_percent(present: int, expected: int) -> int | None:
    return round(100 * present / expected) if expected else None


def team_summary(*, users: list[User], first: date, last: date) -> list[dict]:
    """Per person, over the period's finished days: days by status, minutes late, and the
    attendance rate (days at work of the days work was expected). One query."""
    closed = last_closed_day(last)
    counts: dict[int, Counter] = {user.pk: Counter() for user in users}
    minutes: Counter = Counter()
    if first <= closed:
        rows = (
            DayResult.objects.filter(user__in=users, date__range=(first, closed))
            .values("user_id", "status")
            .annotate(days=Count("id"), minutes_late=Sum("minutes_late"))
            .order_by()
        )
        for row in rows:
            counts[row["user_id"]][row["status"]] += row["days"]
            minutes[row["user_id"]] += row["minutes_late"] or 0
    summary = []
    for user in users:
        days = counts[user.pk]
        present = sum(days[s] for s in PRESENT_STATUSES)
        expected = present + days[DayResult.Status.ABSENT]
        summary.append(
            {
                "user": user,
                "counts": {status: days[status] for status in DayResult.Status.values},
                "minutes_late": minutes[user.pk],
                "present": present,
                "expected": expected,
                "rate": rate_percent(present, expected),
            }
        )
    return summary


def team_daily_series(*, users: list[User], first: date, last: date) -> list[dict]:
    """Per day of the period: people expected, at work and late, and the attendance rate
    (``None`` for open days and days nobody was expected). One query."""
    closed = last_closed_day(last)
    per_day: dict[date, Counter] = {}
    if first <= closed:
        rows = (
            DayResult.objects.filter(user__in=users, date__range=(first, closed))
            .values("date", "status")
            .annotate(people=Count("id"))
            .order_by()
        )
        for row in rows:
            per_day.setdefault(row["date"], Counter())[row["status"]] += row["people"]
    series = []
    for day in _dates(first, last):
        people = per_day.get(day, Counter())
        present = sum(people[s] for s in PRESENT_STATUSES)
        expected = present + people[DayResult.Status.ABSENT]
        series.append(
            {
                "date": day,
                "closed": day <= closed,
                "expected": expected,
                "present": present,
                "late": people[DayResult.Status.LATE],
                "rate": rate_percent(present, expected),
            }
        )
    return series


def primary_department_names(*, users: list[User]) -> dict[int, str]:
    """Each person's primary department (else their first), by user id. One query."""
    names: dict[int, str] = {}
    memberships = Membership.objects.filter(user__in=users).order_by("-is_primary", "id")
    for user_id, name in memberships.values_list("user_id", "department__name"):
        names.setdefault(user_id, name)
    return names


EXPORT_HEADER = [
    "username",
    "display_name",
    "department",
    "date",
    "status",
    "minutes_late",
    "minutes_early",
    "first_check_in",
    "last_check_out",
]


def attendance_export_rows(*, users: list[User], first: date, last: date) -> list[tuple]:
    """One row per person and day, in EXPORT_HEADER's order; check-in and check-out are
    local datetimes, the status is empty where no result is computed yet. Three queries."""
    departments = primary_department_names(users=users)
    return [
        (
            day.user.username,
            day.user.name,
            departments.get(day.user.pk, ""),
            day.date,
            day.status or "",
            day.minutes_late,
            day.minutes_early,
            day.first_in,
            day.last_out,
        )
        for day in person_days(users=users, first=first, last=last)
    ]
