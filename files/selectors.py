"""Reads for files, each checked against conversation membership."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError, is_number

from .models import StoredFile


def stored_file_get_for_user(*, user: User, file_id: Any) -> StoredFile:
    """A file of a conversation ``user`` is a member of; for anyone else it does not exist."""
    stored = (
        StoredFile.objects.filter(pk=file_id, conversation__memberships__user=user).first()
        if is_number(file_id)
        else None
    )
    if stored is None:
        raise ApplicationError(_("No such file."), code="not_found")
    return stored
