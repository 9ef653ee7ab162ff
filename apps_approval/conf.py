"""The approvals' settings (core.conf)."""

from core.conf import Setting, integer

SETTINGS = [
    # Reminded by a Celery beat task, hourly (CELERY_BEAT_SCHEDULE).
    Setting("APPROVAL_REMIND_AFTER_HOURS", integer, 24, "Pending approvals older than this are reminded."),
    Setting("APPROVAL_FILE_MAX_BYTES", integer, 10 * 2**20, "The largest file a request's form may carry."),
]
