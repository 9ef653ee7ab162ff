"""Writes for attendance: punches, approved leave and corrections, and each day's result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from accounts.services import service_account_get_or_create, service_account_permit
from contacts.models import Department, Membership
from core.errors import ApplicationError
from messaging.models import Message
from messaging.send import message_send

from .models import DayResult, Holiday, Leave, PersonSchedule, Punch, WorkSchedule

SERVICE_USERNAME = "attendance"
#: Its name, in each reader's language (registered in apps.py).
SERVICE_NAME = pgettext_lazy("service account", "Attendance")


def service_account() -> User:
    return service_account_get_or_create(username=SERVICE_USERNAME, display_name=SERVICE_NAME)


@dataclass(frozen=True)
class Schedule:
    work_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: time = time(9, 0)
    end: time = time(18, 0)
    grace_minutes: int = 10
    flexible_minutes: int = 0


def _schedule(source: WorkSchedule | PersonSchedule | None) -> Schedule:
    if source is None:
        return Schedule()
    return Schedule(tuple(source.work_days), source.start, source.end, source.grace_minutes, source.flexible_minutes)


def schedules_by_user(user_ids: Iterable[int]) -> dict[int, Schedule]:
    """Each person's schedule in three queries: their own, else their primary department's
    (or the nearest department above with one), else 09:00–18:00 Monday to Friday."""
    user_ids = list(user_ids)
    own = {s.user_id: s for s in PersonSchedule.objects.filter(user_id__in=user_ids)}
    by_path = {w.department.path: w for w in WorkSchedule.objects.select_related("department")}
    paths: dict[int, str] = {}
    for user_id, path in (
        Membership.objects.filter(user_id__in=user_ids)
        .order_by("user_id", "-is_primary", "id")
        .values_list("user_id", "department__path")
    ):
        paths.setdefault(user_id, path)
    schedules = {}
    for user_id in user_ids:
        source = own.get(user_id)
        path = paths.get(user_id, "")
        while source is None and path:
            source = by_path.get(path)
            path = path[: -Department.steplen]
        schedules[user_id] = _schedule(source)
    return schedules


def schedule_for(user: User) -> Schedule:
    return schedules_by_user([user.pk])[user.pk]


def is_workday(day: date, schedule: Schedule, holiday: Holiday | None | bool = False) -> bool:
    """``holiday``: the day's calendar entry when the caller has it already (None: there is none)."""
    if holiday is False:
        holiday = Holiday.objects.filter(date=day).first()
    if holiday is not None:
        return holiday.is_workday
    return day.weekday() in schedule.work_days


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def day_result_compute(*, user: User, day: date, closed: bool = True) -> DayResult:
    """The day's status from punches, schedule, holidays and approved leave.

    ``closed``: the day is over, so a day without punches is an absence (an open day is
    only missing its punches so far)."""
    schedule = schedule_for(user)
    start_of_day = _local(day, time(0, 0))
    punches = list(Punch.objects.filter(user=user, at__gte=start_of_day, at__lt=start_of_day + timedelta(days=1)))
    first_in = min((p.at for p in punches if p.kind == Punch.Kind.CHECK_IN), default=None)
    last_out = max((p.at for p in punches if p.kind == Punch.Kind.CHECK_OUT), default=None)
    late = early = 0
    if not is_workday(day, schedule):
        status = DayResult.Status.REST_DAY
    elif Leave.objects.filter(user=user, start__lte=day, end__gte=day).exists():
        status = DayResult.Status.ON_LEAVE
    elif first_in is None and last_out is None:
        status = DayResult.Status.ABSENT if closed else DayResult.Status.MISSING_PUNCH
    else:
        start, end = _local(day, schedule.start), _local(day, schedule.end)
        if first_in is not None:
            # A flexible start moves the end by as much as the arrival was late, within the window.
            shift = min(max(timedelta(0), first_in - start), timedelta(minutes=schedule.flexible_minutes))
            start, end = start + shift, end + shift
            if first_in > start + timedelta(minutes=schedule.grace_minutes):
                late = int((first_in - start).total_seconds() // 60)
        if last_out is not None and last_out < end:
            early = int((end - last_out).total_seconds() // 60)
        if first_in is None or last_out is None:
            # Lateness shows from the check-in on; a day still open is not missing its check-out yet.
            status = DayResult.Status.LATE if late and not closed else DayResult.Status.MISSING_PUNCH
            early = 0
        else:
            status = (
                DayResult.Status.LATE if late else DayResult.Status.EARLY_LEAVE if early else DayResult.Status.NORMAL
            )
    result, _created = DayResult.objects.update_or_create(
        user=user,
        date=day,
        defaults={
            "status": status,
            "minutes_late": late,
            "minutes_early": early,
            "first_in": first_in,
            "last_out": last_out,
        },
    )
    return result


@transaction.atomic
def punch_record(*, user: User, kind: str, source: str, address: str | None = None, at: datetime | None = None) -> Punch:
    """Check in or out now, and confirm it in the person's conversation with Attendance."""
    if kind not in Punch.Kind.values:
        raise ApplicationError(_("kind must be check_in or check_out."), code="invalid")
    punch = Punch.objects.create(user=user, kind=kind, source=source, address=address, at=at or timezone.now())
    day = timezone.localdate(punch.at)
    day_result_compute(user=user, day=day, closed=False)
    message_send(
        from_client=False,
        sender=service_account(),
        to_user_id=user.pk,
        app="attendance",
        body={"punch": punch.pk},
        client_id=f"attendance:punch:{punch.pk}",
    )
    return punch


def _days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def leave_approved(payload: dict[str, Any]) -> None:
    """The approvals' ``approval.approved`` event: record leave and punch corrections."""
    user = User.objects.filter(pk=payload["requester"]).first()
    if user is None:
        return
    data = payload["data"]
    if payload["template"] == "leave":
        start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
        Leave.objects.get_or_create(
            approval_id=payload["approval"],
            defaults={"user": user, "start": start, "end": end, "leave_type": data.get("leave_type", "")},
        )
        for day in _days(start, end):
            if day <= timezone.localdate():
                day_result_compute(user=user, day=day)
    elif payload["template"] == "punch_correction":
        day = date.fromisoformat(data["date"])
        at = _local(day, time.fromisoformat(data["time"]))
        Punch.objects.get_or_create(
            approval_id=payload["approval"],
            defaults={"user": user, "kind": data.get("kind", Punch.Kind.CHECK_IN), "at": at, "source": Punch.Source.CORRECTION},
        )
        day_result_compute(user=user, day=day, closed=day < timezone.localdate())


def _employee_ids(after_user_id: int = 0):
    """Active people who belong to a department: the ones who keep working hours."""
    return (
        User.objects.filter(is_active=True, is_service_account=False, memberships__isnull=False, pk__gt=after_user_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def attendance_day_close(*, day: date, after_user_id: int = 0, batch_size: int = 500) -> int | None:
    """Settle a finished day for the next batch of people (a day without punches becomes an
    absence); returns where to continue, or None. Running it again gives the same results."""
    batch = list(_employee_ids(after_user_id)[: batch_size + 1])
    users = User.objects.in_bulk(batch[:batch_size])
    for user_id in batch[:batch_size]:
        day_result_compute(user=users[user_id], day=day, closed=True)
    return batch[batch_size - 1] if len(batch) > batch_size else None


def check_in_reminders_send(*, now: datetime | None = None) -> int:
    """Remind, once a day, each person who has not checked in by their start plus grace:
    on their workdays, not on leave, and only until their day ends. Returns how many."""
    now = timezone.localtime(now)
    today = now.date()
    sender = service_account()
    prefix = f"attendance:remind:{today.isoformat()}:"
    user_ids = list(_employee_ids())
    holiday = Holiday.objects.filter(date=today).first()
    # Today's leave and check-ins are few whatever the head count: no list of ids to send.
    skip = set(Leave.objects.filter(start__lte=today, end__gte=today).values_list("user_id", flat=True))
    skip.update(
        Punch.objects.filter(
            kind=Punch.Kind.CHECK_IN, at__gte=_local(today, time(0, 0)), at__lte=now
        ).values_list("user_id", flat=True)
    )
    reminded = set(
        Message.objects.filter(sender=sender, client_id__startswith=prefix).values_list("client_id", flat=True)
    )
    count = 0
    for user_id, schedule in schedules_by_user(user_ids).items():
        client_id = f"{prefix}{user_id}"
        if user_id in skip or client_id in reminded or not is_workday(today, schedule, holiday):
            continue
        due = _local(today, schedule.start) + timedelta(minutes=schedule.grace_minutes + schedule.flexible_minutes)
        if not due < now < _local(today, schedule.end):
            continue
        message_send(
            from_client=False,
            sender=sender,
            to_user_id=user_id,
            app="attendance",
            body={"reminder": "check_in", "date": today.isoformat(), "start": schedule.start.strftime("%H:%M")},
            client_id=client_id,
        )
        count += 1
    return count


def demo_schedules_configure(*, history: bool = False, **kwargs) -> None:
    """The demo organisation: every department 09:00–18:00, Monday to Friday, 10 minutes' grace;
    and, on a first seed, the past three weeks of punches, so that calendars and the team
    view have something to show (``seed_demo`` asks for it; tests do not)."""
    for department in Department.objects.all():
        WorkSchedule.objects.get_or_create(department=department)
    if history and not Punch.objects.exists():
        demo_history_seed()


def demo_history_seed(days: int = 21) -> None:
    """Plausible punches for every employee on the past ``days`` workdays: mostly on time,
    now and then late, leaving early, forgetting to check out or away. Repeatable."""
    import random

    rng = random.Random(2026)
    today = timezone.localdate()
    users = list(User.objects.filter(pk__in=_employee_ids()).order_by("pk"))
    schedules = schedules_by_user(u.pk for u in users)
    punches = []
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        for user in users:
            schedule = schedules[user.pk]
            if day.weekday() not in schedule.work_days:
                continue
            roll = rng.random()
            if roll < 0.03:
                continue  # away
            arrive = rng.randint(-25, 8) if roll < 0.85 else rng.randint(12, 50)
            leave = rng.randint(0, 45) if rng.random() > 0.06 else -rng.randint(20, 60)
            at_in = _local(day, schedule.start) + timedelta(minutes=arrive, seconds=rng.randint(0, 59))
            punches.append(Punch(user=user, kind=Punch.Kind.CHECK_IN, at=at_in, source=Punch.Source.CHAT))
            if rng.random() > 0.04:
                at_out = _local(day, schedule.end) + timedelta(minutes=leave, seconds=rng.randint(0, 59))
                punches.append(Punch(user=user, kind=Punch.Kind.CHECK_OUT, at=at_out, source=Punch.Source.CHAT))
    Punch.objects.bulk_create(punches)
    for offset in range(days, 0, -1):
        attendance_day_close(day=today - timedelta(days=offset), batch_size=10_000)


# The attendance account may confirm punches to anyone.
conversation_permit = service_account_permit(SERVICE_USERNAME)
