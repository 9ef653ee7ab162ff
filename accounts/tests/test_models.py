"""What people see of an account: its name, and a service account's in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.models import User
from accounts.services import service_account_get_or_create
from apps_announcements.services import service_account as announcements_account
from apps_attendance.services import service_account as attendance_account


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_an_apps_service_account_is_named_in_the_readers_language_and_stored_in_english():
    with translation.override("zh-hans"):
        attendance = attendance_account()  # created while Chinese is active
        assert attendance.name == "考勤助手"
        assert announcements_account().name == "公告助手"
    attendance.refresh_from_db()
    assert attendance.display_name == "Attendance" and attendance.name == "Attendance"
    assert str(attendance) == "Attendance"


@pytest.mark.django_db
def test_a_renamed_service_account_and_people_show_as_written():
    account = attendance_account()
    account.display_name = "打卡机器人"
    account.save(update_fields=["display_name"])
    person = User.objects.create(username="li", display_name="Attendance")
    integration = service_account_get_or_create(username="hr-portal", display_name="Attendance")
    with translation.override("zh-hans"):
        assert account.name == "打卡机器人"
        assert person.name == "Attendance"  # a person called so is not translated
        assert integration.name == "Attendance"  # nor an integration's account: its name is its own
