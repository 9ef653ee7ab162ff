from __future__ import annotations

import uuid

import pytest

from apps_announcements import services


@pytest.fixture
def announce(django_capture_on_commit_callbacks):
    """Publish through the service and deliver at once (Celery runs eagerly in tests)."""

    def run(author, audience=None, **fields):
        fields.setdefault("title", "Office closed on Friday")
        fields.setdefault("body", "The office is **closed** on Friday.")
        with django_capture_on_commit_callbacks(execute=True):
            announcement, _created = services.announcement_publish(
                author=author, audience=audience or {"everyone": True}, client_id=uuid.uuid4().hex, **fields
            )
        announcement.refresh_from_db()
        return announcement

    return run
