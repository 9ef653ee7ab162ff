from celery import shared_task

from .services import announcement_deliver_batch, announcement_remind_batch


@shared_task(name="apps_announcements.tasks.deliver")
def deliver(announcement_id: int, after_user_id: int = 0) -> None:
    """One batch of an announcement's audience; the next batch is its own task."""
    cursor = announcement_deliver_batch(announcement_id=announcement_id, after_user_id=after_user_id)
    if cursor is not None:
        deliver.delay(announcement_id, cursor)


@shared_task(name="apps_announcements.tasks.remind")
def remind(announcement_id: int, run: str, after_user_id: int = 0) -> None:
    """One batch of a "remind the rest" run."""
    cursor = announcement_remind_batch(announcement_id=announcement_id, run=run, after_user_id=after_user_id)
    if cursor is not None:
        remind.delay(announcement_id, run, cursor)
