from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from .services import attendance_day_close, check_in_reminders_send


@shared_task(name="apps_attendance.tasks.close_day")
def close_day(day: str | None = None, after_user_id: int = 0) -> None:
    """Settle a finished day (yesterday by default), one batch of people per task."""
    when = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    cursor = attendance_day_close(day=when, after_user_id=after_user_id)
    if cursor is not None:
        close_day.delay(when.isoformat(), cursor)


@shared_task(name="apps_attendance.tasks.remind_check_in")
def remind_check_in() -> int:
    return check_in_reminders_send()
