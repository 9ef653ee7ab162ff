"""Writes for files: uploads to a conversation, and reports of bytes sent directly."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError
from messaging import metrics
from messaging.send import conversation_access_for_send

from .images import picture_make
from .models import StoredFile

#: The application attribute of file messages (see handlers.FileHandler).
FILE_APP = "file"
MAX_NAME_CHARS = 255
MAX_TYPE_CHARS = 200

# Control characters, and format characters such as the right-to-left override that
# makes "invoice‮fdp.exe" look like a PDF.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")


def file_name_clean(name: Any) -> str:
    """A person's name for a file, safe to show and to save under: the last part of any
    path, without control or direction-changing characters, at most 255 characters (the
    extension kept when it is cut)."""
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES).strip()
    if text in {"", ".", ".."}:
        return "file"
    if len(text) > MAX_NAME_CHARS:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= 16:
            text = stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:MAX_NAME_CHARS].rstrip()
    return text


def _content_type_clean(value: Any) -> str:
    """The type the browser named, if it looks like one; it is only ever shown, never served."""
    value = value.strip().lower() if isinstance(value, str) else ""
    return value if len(value) <= MAX_TYPE_CHARS and _CONTENT_TYPE.fullmatch(value) else ""


def _quota_check(user: User, size: int) -> None:
    used = StoredFile.objects.filter(uploader=user).aggregate(total=Sum("size"))["total"] or 0
    left = max(0, settings.FILE_QUOTA_BYTES - used)
    if size > left:
        raise ApplicationError(
            _("There is not enough room left for this file (%(size)s): %(left)s of your %(quota)s are free.")
            % {"size": filesizeformat(size), "left": filesizeformat(left), "quota": filesizeformat(settings.FILE_QUOTA_BYTES)},
            code="too_large",
            extra={"left": left},
        )


def _sha256(upload: UploadedFile) -> tuple[str, int]:
    """The file's SHA-256 and size, read in chunks (an upload may be 100 MB on disk)."""
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def file_upload(*, user: User, conversation_id: Any, upload: UploadedFile | None) -> StoredFile:
    """Keep a file for a message to a conversation the uploader may send to.

    The file counts against the uploader's quota (``FILE_QUOTA_BYTES``) and is served only
    to that conversation's members; its ``sha256`` lets a ``file`` message prove that it
    names these very bytes.
    """
    conversation = conversation_access_for_send(user=user, conversation_id=conversation_id, app=FILE_APP)
    if upload is None:
        raise ApplicationError(_("Choose a file to upload."), code="invalid")
    if upload.size > settings.FILE_MAX_BYTES:
        raise ApplicationError(
            _("The file is too large (%(size)s; at most %(max)s).")
            % {"size": filesizeformat(upload.size), "max": filesizeformat(settings.FILE_MAX_BYTES)},
            code="too_large",
        )
    if not upload.size:
        raise ApplicationError(_("The file is empty."), code="invalid")
    # Before reading the whole file: most refusals need no hashing.
    _quota_check(user, upload.size)
    sha256, size = _sha256(upload)
    stored = StoredFile(
        uploader=user,
        conversation=conversation,
        name=file_name_clean(upload.name),
        size=size,
        content_type=_content_type_clean(upload.content_type),
        sha256=sha256,
    )
    # A picture gets a thumbnail and a full-size copy without its metadata; anything
    # else, or a picture too large to decode, is kept as it is.
    picture = picture_make(upload)
    # Written before the row, outside the transaction (moving or copying up to
    # FILE_MAX_BYTES takes a while), and removed again if the row is refused.
    stored.file.save(stored.name, upload, save=False)
    try:
        if picture is not None:
            stored.width, stored.height = picture.width, picture.height
            stored.thumbnail.save(picture.thumbnail.name, picture.thumbnail, save=False)
            stored.view.save(picture.view.name, picture.view, save=False)
        with transaction.atomic():
            # One person's uploads take turns here, so two at once cannot both fit into
            # the last of the quota.
            User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
            _quota_check(user, size)
            stored.save()
    except BaseException:
        for kept in (stored.file, stored.thumbnail, stored.view):
            if kept:
                kept.delete(save=False)
        raise
    transaction.on_commit(lambda: metrics.RELAY_BYTES.inc(size))
    return stored
