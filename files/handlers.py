"""The ``file`` application attribute: a file sent to a conversation, directly or through
the server."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import ApplicationError, is_number
from messaging.registry import AppHandler

from .models import StoredFile
from .services import FILE_APP, MAX_NAME_CHARS, MAX_TYPE_CHARS, file_name_clean

_SHA256 = re.compile(r"[0-9a-f]{64}")
TRANSPORTS = ("p2p", "relay")


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid")


class FileHandler(AppHandler):
    """A file message describes one file: ``name``, ``size``, ``type``, ``sha256``, and
    how it travelled (``transport``). A relayed file names its upload (``file``), which
    must be the sender's own, in this conversation, with the same size and hash; the
    server then adds where to download it, and for a picture its ``width`` and ``height``
    and where its ``thumbnail`` and full-size ``view`` are."""

    app = FILE_APP
    label = pgettext_lazy("message kind", "File")
    renderer = "file"
    chat_include = "files/chat_include.html"
    # The message and its upload must agree; an edit could only break that.
    editable = False
    is_file = True

    def quote_text(self, body: dict[str, Any]) -> str:
        name = body.get("name")
        return name if isinstance(name, str) else ""

    def chat_config(self) -> dict[str, Any]:
        return {
            "max_bytes": settings.FILE_MAX_BYTES,
            "upload_url": reverse("api-files"),
            "archive_p2p": settings.FILE_ARCHIVE_P2P,
        }

    def clean(self, body: dict[str, Any], *, sender, conversation) -> dict[str, Any]:
        name, size, sha256 = body.get("name"), body.get("size"), body.get("sha256")
        content_type = body.get("type", "")
        transport, file_id = body.get("transport"), body.get("file")
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS:
            raise _invalid(_("A file message needs the file's name (1 to %(n)d characters).") % {"n": MAX_NAME_CHARS})
        if not is_number(size) or size < 0:
            raise _invalid(_("size must be the file's length in bytes."))
        if not isinstance(content_type, str) or len(content_type) > MAX_TYPE_CHARS:
            raise _invalid(_("type must be a text of at most %(n)d characters.") % {"n": MAX_TYPE_CHARS})
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise _invalid(_("sha256 must be the file's SHA-256 in 64 lowercase hexadecimal digits."))
        if transport not in TRANSPORTS:
            raise _invalid(_("transport must be “p2p” or “relay”."))
        if transport == "p2p" and not settings.P2P_ENABLED:
            raise _invalid(_("Files cannot be sent directly here; send it through the server."))
        if transport == "relay" and file_id is None:
            raise _invalid(_("A file sent through the server names its upload (file)."))
        if transport == "p2p" and file_id is not None and not settings.FILE_ARCHIVE_P2P:
            raise _invalid(_("Files sent directly are not kept on the server here."))

        cleaned = {"name": file_name_clean(name), "size": size, "type": content_type, "sha256": sha256, "transport": transport}
        if file_id is not None:
            stored = self._upload_of(file_id, sender=sender, conversation=conversation)
            if stored.size != size or stored.sha256 != sha256:
                raise _invalid(_("The file's size or SHA-256 does not match its upload."))
            # What the server stored and serves, whatever the body said.
            cleaned.update(
                name=stored.name,
                type=stored.content_type,
                file=stored.pk,
                url=reverse("file-download", args=[stored.pk]),
            )
            if stored.is_picture:
                # A picture: its size as shown and where its thumbnail and full-size copy
                # are, all from the upload (a client's width, height or URLs are dropped).
                cleaned.update(
                    width=stored.width,
                    height=stored.height,
                    thumbnail=reverse("file-thumbnail", args=[stored.pk]),
                    view=reverse("file-view", args=[stored.pk]),
                )
        return cleaned

    @staticmethod
    def _upload_of(file_id: Any, *, sender, conversation) -> StoredFile:
        stored = (
            StoredFile.objects.filter(pk=file_id, uploader=sender, conversation_id=conversation.pk).first()
            if is_number(file_id)
            else None
        )
        if stored is None:
            raise _invalid(_("file must be a file you uploaded to this conversation."))
        return stored
