"""Daily results from punches, schedules, holidays and approved leave."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import pytest
from django.utils import timezone

from apps_approval import services as approvals
from apps_attendance import services
from apps_attendance.models import DayResult, Holiday, Leave, PersonSchedule, Punch, WorkSchedule
from contacts.models import Department
from messaging.models import Message

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
SATURDAY = date(2026, 11, 28)


def punch(user, day, hh, mm, kind):
    return Punch.objects.create(user=user, kind=kind, source="api", at=timezone.make_aware(datetime.combine(day, time(hh, mm))))


def result(user, day, **kw):
    return services.day_result_compute(user=user, day=day, **kw)


@pytest.mark.parametrize(
    "check_in, check_out, status, late, early",
    [
        ((8, 55), (18, 5), "normal", 0, 0),
        ((9, 10), (18, 0), "normal", 0, 0),  # within the 10 minutes' grace
        ((9, 25), (18, 0), "late", 25, 0),
        ((9, 0), (17, 30), "early_leave", 0, 30),
        ((9, 0), None, "missing_punch", 0, 0),
        (None, (18, 0), "missing_punch", 0, 0),
    ],
)
def test_statuses(demo, check_in, check_out, status, late, early):
    alice = demo["alice"]
    if check_in:
        punch(alice, MONDAY, *check_in, "check_in")
    if check_out:
        punch(alice, MONDAY, *check_out, "check_out")
    day = result(alice, MONDAY)
    assert (day.status, day.minutes_late, day.minutes_early) == (status, late, early)


def test_lateness_shows_from_the_check_in_on(demo):
    alice = demo["alice"]
    punch(alice, MONDAY, 9, 40, "check_in")
    day = result(alice, MONDAY, closed=False)
    assert (day.status, day.minutes_late) == ("late", 40)
    # A day closed without a check-out is missing a punch, late or not.
    assert result(alice, MONDAY).status == "missing_punch"
    Punch.objects.all().delete()
    punch(alice, MONDAY, 8, 55, "check_in")
    assert result(alice, MONDAY, closed=False).status == "missing_punch"


def test_absent_rest_day_and_holidays(demo):
    alice = demo["alice"]
    assert result(alice, MONDAY).status == "absent"
    assert result(alice, MONDAY, closed=False).status == "missing_punch"
    assert result(alice, SATURDAY).status == "rest_day"
    Holiday.objects.create(date=MONDAY, name="Founders' day")
    assert result(alice, MONDAY).status == "rest_day"
    Holiday.objects.create(date=SATURDAY, name="Make-up day", is_workday=True)
    assert result(alice, SATURDAY).status == "absent"


def test_department_and_personal_schedules(demo):
    alice = demo["alice"]
    # The demo gives every department 09:00–18:00, Monday to Friday, 10 minutes' grace.
    assert {(w.start, w.end, w.grace_minutes, tuple(w.work_days)) for w in WorkSchedule.objects.all()} == {
        (time(9, 0), time(18, 0), 10, (0, 1, 2, 3, 4))
    }
    assert WorkSchedule.objects.count() == Department.objects.count()
    WorkSchedule.objects.filter(department__code="dev").update(start=time(10, 0), end=time(19, 0))
    punch(alice, MONDAY, 9, 50, "check_in")
    punch(alice, MONDAY, 19, 0, "check_out")
    assert result(alice, MONDAY).status == "normal"
    PersonSchedule.objects.create(user=alice, start=time(8, 0), end=time(17, 0), grace_minutes=0)
    assert result(alice, MONDAY).minutes_late == 110
    # Sub-departments inherit the schedule of the department above.
    WorkSchedule.objects.filter(department__code="hr").delete()
    WorkSchedule.objects.filter(department__code="company").update(start=time(7, 0), end=time(16, 0))
    punch(demo["erin"], MONDAY, 7, 5, "check_in")
    punch(demo["erin"], MONDAY, 16, 0, "check_out")
    assert result(demo["erin"], MONDAY).status == "normal"


def test_flexible_start(demo):
    alice = demo["alice"]
    PersonSchedule.objects.create(user=alice, start=time(9, 0), end=time(18, 0), grace_minutes=0, flexible_minutes=60)
    punch(alice, MONDAY, 9, 40, "check_in")
    punch(alice, MONDAY, 18, 40, "check_out")
    assert result(alice, MONDAY).status == "normal"
    Punch.objects.filter(user=alice, kind="check_out").update(at=timezone.make_aware(datetime.combine(MONDAY, time(18, 10))))
    assert (result(alice, MONDAY).status, result(alice, MONDAY).minutes_early) == ("early_leave", 30)


def test_punches_are_confirmed_by_message(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recorded = services.punch_record(user=demo["bob"], kind="check_in", source="api", address="127.0.0.1")
    message = Message.objects.get(app="attendance")
    assert message.sender.username == "attendance" and message.body["punch"] == recorded.pk
    assert message.body["text"].startswith("Checked in at")
    assert DayResult.objects.filter(user=demo["bob"], date=timezone.localdate(recorded.at)).exists()


def test_approved_leave_and_corrections_arrive_through_the_domain_event(demo, django_capture_on_commit_callbacks):
    def approve(requester, template, data):
        with django_capture_on_commit_callbacks(execute=True):
            approval, _ = approvals.approval_submit(requester=requester, template_code=template, data=data, client_id=str(uuid.uuid4()))
        with django_capture_on_commit_callbacks(execute=True):
            approvals.approval_decide(user=demo["dev_lead"], approval_id=approval.pk, decision="approve")

    approve(demo["alice"], "leave", {"leave_type": "sick", "start": "2026-11-23", "end": "2026-11-24"})
    assert Leave.objects.filter(user=demo["alice"], start=MONDAY).exists()
    assert result(demo["alice"], MONDAY).status == "on_leave"

    punch(demo["bob"], MONDAY, 18, 0, "check_out")
    assert result(demo["bob"], MONDAY).status == "missing_punch"
    approve(demo["bob"], "punch_correction", {"date": "2026-11-23", "time": "09:00", "kind": "check_in", "reason": "Forgot"})
    assert DayResult.objects.get(user=demo["bob"], date=MONDAY).status == "normal"


def test_a_punch_previews_in_the_readers_language_whatever_it_was_sent_in(demo, django_capture_on_commit_callbacks):
    from django.utils import translation

    from messaging.registry import message_preview

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        recorded = services.punch_record(user=demo["bob"], kind="check_in", source="api", address="127.0.0.1")
    message = Message.objects.get(app="attendance")
    hhmm = f"{timezone.localtime(recorded.at):%H:%M}"
    with translation.override("en"):
        assert message_preview(message) == f"[Attendance] Checked in at {hhmm}"
    with translation.override("zh-hans"):
        preview = message_preview(message)
    assert preview.startswith("[考勤] ") and hhmm in preview and "Checked" not in preview
