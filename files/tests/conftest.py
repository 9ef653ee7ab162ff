from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from prometheus_client import REGISTRY


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dev_room(demo):
    """Development's department conversation: alice, bob and dev_lead; not carol."""
    from messaging.models import Conversation

    return Conversation.objects.get(department__code="dev")


def upload_of(content: bytes, name: str = "notes.txt", content_type: str = "text/plain") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
