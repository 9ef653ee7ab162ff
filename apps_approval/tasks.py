from celery import shared_task

from .services import approval_files_discard_unused, approvals_remind


@shared_task(name="apps_approval.tasks.remind_pending")
def remind_pending() -> int:
    return approvals_remind()


@shared_task(name="apps_approval.tasks.discard_unused_files")
def discard_unused_files() -> int:
    return approval_files_discard_unused()
