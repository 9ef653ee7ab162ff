from celery import shared_task

from .services import approvals_remind


@shared_task(name="apps_approval.tasks.remind_pending")
def remind_pending() -> int:
    return approvals_remind()
