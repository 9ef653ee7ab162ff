"""The beat tasks: closing a day and reminding those who have not checked in; schedules in bulk."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.utils import timezone

from apps_attendance import services, tasks
from apps_attendance.models import DayResult, Holiday, Leave, PersonSchedule, Punch, WorkSchedule
from messaging.models import Message

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
SATURDAY = date(2026, 11, 28)
EMPLOYEES = {"president", "secretary", "dev_lead", "alice", "bob", "sales_lead", "carol", "mkt_lead", "dave", "hr_lead", "erin"}


def at(day, hh, mm):
    return timezone.make_aware(datetime.combine(day, time(hh, mm)))


def reminded() -> set[str]:
    return {
        m.conversation.memberships.exclude(user__username="attendance").get().user.username
        for m in Message.objects.filter(app="attendance", sender__username="attendance").select_related("conversation")
        if m.body.get("reminder") == "check_in"
    }


def test_remind_those_not_checked_in_after_start_and_grace(demo):
    Punch.objects.create(user=demo["bob"], kind="check_in", source="api", at=at(MONDAY, 8, 50))
    Leave.objects.create(user=demo["carol"], start=MONDAY, end=MONDAY, approval_id=1)
    PersonSchedule.objects.create(user=demo["dave"], start=time(10, 0), end=time(19, 0))

    # Within the grace minutes nobody is reminded yet.
    assert services.check_in_reminders_send(now=at(MONDAY, 9, 10)) == 0
    assert services.check_in_reminders_send(now=at(MONDAY, 9, 11)) == 8
    assert reminded() == EMPLOYEES - {"bob", "carol", "dave"}
    message = Message.objects.filter(app="attendance", body__reminder="check_in").first()
    assert message.body["start"] == "09:00" and "09:00" in message.body["text"]
    # Once a day: the next run sends nothing more, but dave's own later start comes round.
    assert services.check_in_reminders_send(now=at(MONDAY, 9, 30)) == 0
    assert services.check_in_reminders_send(now=at(MONDAY, 10, 11)) == 1
    # Nobody is reminded after the working day, on a rest day or on a holiday.
    assert services.check_in_reminders_send(now=at(MONDAY + (SATURDAY - MONDAY), 9, 30)) == 0
    assert services.check_in_reminders_send(now=at(date(2026, 11, 24), 19, 0)) == 0
    Holiday.objects.create(date=date(2026, 11, 25), name="Founders' day")
    assert services.check_in_reminders_send(now=at(date(2026, 11, 25), 9, 30)) == 0


def test_reminders_take_a_bounded_number_of_queries(demo, django_assert_max_num_queries):
    services.check_in_reminders_send(now=at(MONDAY, 9, 30))
    # With everyone reminded already, a run is a handful of queries whatever the head count.
    with django_assert_max_num_queries(9):
        assert services.check_in_reminders_send(now=at(MONDAY, 9, 45)) == 0


def test_close_day_settles_everyone_in_batches(demo):
    Punch.objects.create(user=demo["alice"], kind="check_in", source="api", at=at(MONDAY, 9, 20))
    Punch.objects.create(user=demo["alice"], kind="check_out", source="api", at=at(MONDAY, 18, 0))
    cursor = services.attendance_day_close(day=MONDAY, batch_size=4)
    assert cursor is not None and DayResult.objects.filter(date=MONDAY).count() == 4
    while cursor is not None:
        cursor = services.attendance_day_close(day=MONDAY, after_user_id=cursor, batch_size=4)
    results = dict(DayResult.objects.filter(date=MONDAY).values_list("user__username", "status"))
    assert set(results) == EMPLOYEES  # service accounts and the administrator keep no hours
    assert results["alice"] == "late" and results["bob"] == "absent"
    # Closing again gives the same results.
    services.attendance_day_close(day=MONDAY)
    assert DayResult.objects.filter(date=MONDAY).count() == len(EMPLOYEES)


def test_close_day_task_defaults_to_yesterday(demo, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 11, 24))
    tasks.close_day.delay()
    assert set(DayResult.objects.values_list("date", flat=True)) == {MONDAY}
    tasks.close_day.delay("2026-11-28")
    assert DayResult.objects.get(user=demo["alice"], date=SATURDAY).status == "rest_day"


def test_schedules_in_bulk(demo, django_assert_num_queries):
    WorkSchedule.objects.filter(department__code="dev").update(start=time(10, 0))
    WorkSchedule.objects.filter(department__code="sales").delete()
    WorkSchedule.objects.filter(department__code="company").update(start=time(8, 0))
    PersonSchedule.objects.create(user=demo["bob"], start=time(7, 0))
    ids = [demo[name].pk for name in ("alice", "bob", "carol", "erin", "admin")]
    with django_assert_num_queries(3):
        schedules = services.schedules_by_user(ids)
    starts = {name: schedules[demo[name].pk].start for name in ("alice", "bob", "carol", "erin", "admin")}
    # carol's department has none of its own: the company's applies; admin belongs nowhere.
    assert starts == {"alice": time(10, 0), "bob": time(7, 0), "carol": time(8, 0), "erin": time(9, 0), "admin": time(9, 0)}
    assert services.schedule_for(demo["carol"]).start == time(8, 0)


def test_seed_demo_adds_weeks_of_history_once(db, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    punches = Punch.objects.count()
    statuses = set(DayResult.objects.values_list("status", flat=True))
    assert punches > 100 and {"normal", "late"} <= statuses
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    assert Punch.objects.count() == punches
