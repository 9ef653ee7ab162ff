"""Schedules, holidays and personal overrides are kept in the admin; punches and results are looked at."""

from datetime import time

import pytest

from apps_attendance.models import PersonSchedule, WorkSchedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(demo, client):
    client.force_login(demo["admin"])
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/apps_attendance/workschedule/",
        "/admin/apps_attendance/workschedule/add/",
        "/admin/apps_attendance/personschedule/add/",
        "/admin/apps_attendance/holiday/",
        "/admin/apps_attendance/holiday/add/",
        "/admin/apps_attendance/punch/",
        "/admin/apps_attendance/leave/",
        "/admin/apps_attendance/dayresult/",
    ],
)
def test_admin_pages_open(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_punches_and_results_cannot_be_typed_in(admin_client):
    assert admin_client.get("/admin/apps_attendance/punch/add/").status_code == 403
    assert admin_client.get("/admin/apps_attendance/dayresult/add/").status_code == 403


def test_change_a_department_schedule(admin_client):
    schedule = WorkSchedule.objects.get(department__code="sales")
    page = admin_client.get(f"/admin/apps_attendance/workschedule/{schedule.pk}/change/").content.decode()
    assert 'type="checkbox" name="work_days" value="5"' in page
    form = {
        "department": schedule.department_id,
        "work_days": ["0", "1", "2", "3", "4", "5"],
        "start": "08:30",
        "end": "17:30",
        "grace_minutes": "5",
        "flexible_minutes": "0",
    }
    response = admin_client.post(f"/admin/apps_attendance/workschedule/{schedule.pk}/change/", form)
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.work_days, schedule.start, schedule.grace_minutes) == ([0, 1, 2, 3, 4, 5], time(8, 30), 5)
    # A day that ends before it starts is refused with a plain message.
    response = admin_client.post(
        f"/admin/apps_attendance/workschedule/{schedule.pk}/change/", {**form, "end": "08:00"}
    )
    assert response.status_code == 200 and "The day must end after it starts." in response.content.decode()


def test_personal_override(admin_client, demo):
    response = admin_client.post(
        "/admin/apps_attendance/personschedule/add/",
        {"user": demo["alice"].pk, "work_days": ["0", "2", "4"], "start": "10:00", "end": "16:00",
         "grace_minutes": "0", "flexible_minutes": "30"},
    )
    assert response.status_code == 302
    assert PersonSchedule.objects.get(user=demo["alice"]).work_days == [0, 2, 4]
