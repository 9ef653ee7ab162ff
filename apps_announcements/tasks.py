from celery import shared_task

from .services import announcement_deliver_batch


@shared_task(name="apps_announcements.tasks.deliver")
def deliver(announcement_id: int, after_user_id: int = 0) -> None:
    """One batch of an announcement's audience; the next batch is its own task."""
    cursor = announcement_deliver_batch(announcement_id=announcement_id, after_user_id=after_user_id)
    if cursor is not None:
        deliver.delay(announcement_id, cursor)
