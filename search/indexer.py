"""Keeping the index current.

Messaging publishes ``message.stored`` and ``message.changed`` (with the messages' ids) on
``core.bus`` after each commit. Each process hands the ids to its one :data:`indexer`,
whose thread gathers them for a moment and hands each batch to a Celery task
(``search.tasks.index_messages``) that turns them into documents in a Celery worker: the
send path only adds ids to a set, and a web worker's interpreter does none of the
indexing. Where Celery runs its tasks eagerly (the embedded default, without a broker)
the thread indexes the batch itself. A message is indexed as it stands when it is read,
so an edit or a recall that commits meanwhile is what the index gets; a recalled or
deleted message's document is removed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from core.errors import json_strings
from core.handover import IdHandover
from messaging.models import Message
from messaging.registry import app_handlers, search_text

from .models import MessageDocument
from .text import MAX_TEXT_CHARS, index_words_many

log = logging.getLogger(__name__)

#: Messages indexed in one transaction.
BATCH = 500
#: How long the thread gathers ids after the first wakes it.
GATHER_SECONDS = 0.25
_LINK = re.compile(r"https?://|\bwww\.", re.IGNORECASE)


def has_link(body: Any) -> bool:
    return any(_LINK.search(text) for value in (body.values() if isinstance(body, dict) else ()) for text in json_strings(value))


def documents_update(ids: Iterable[int]) -> int:
    """Index these messages as they stand now: a document for each one that is there and
    not recalled (written again if it exists), none for the others. Returns how many
    documents were written."""
    ids = set(ids)
    if not ids:
        return 0
    messages = Message.objects.filter(pk__in=ids).only(
        "id", "conversation_id", "sender_id", "app", "body", "created_at", "recalled_at"
    )
    documents = []
    texts = []
    for message in messages:
        if message.recalled_at is not None:
            continue
        try:
            text = search_text(message)[:MAX_TEXT_CHARS]
        except Exception:
            # A body its app cannot read is still found by its filters.
            log.exception("no search text for message %s", message.pk)
            text = ""
        handler = app_handlers.get(message.app) if message.app in app_handlers else None
        documents.append(
            MessageDocument(
                message_id=message.pk,
                conversation_id=message.conversation_id,
                sender_id=message.sender_id,
                created_at=message.created_at,
                has_file=bool(handler and handler.is_file),
                has_link=has_link(message.body),
                text=text,
            )
        )
        texts.append(text)
    # One request to the segmenter for the batch.
    for document, words in zip(documents, index_words_many(texts)):
        document.terms = " ".join(words)
    gone = ids - {document.message_id for document in documents}
    with transaction.atomic():
        if gone:
            MessageDocument.objects.filter(message_id__in=gone).delete()
        if documents:
            MessageDocument.objects.bulk_create(
                documents,
                update_conflicts=True,
                unique_fields=["message"],
                update_fields=["conversation", "sender", "created_at", "has_file", "has_link", "text", "terms"],
            )
    return len(documents)


def _index_task():
    from .tasks import index_messages

    return index_messages


#: This process's messages to index (core.handover): a thread hands them to the Celery
#: task ``search.tasks.index_messages`` in batches (or indexes them itself where Celery
#: runs eagerly); tests set its ``mode`` to ``"manual"`` and ``flush()`` it.
indexer = IdHandover("search-indexer", documents_update, _index_task, batch=BATCH, gather=GATHER_SECONDS)


def messages_changed(payload: dict[str, Any]) -> None:
    """``message.stored`` and ``message.changed``: index these messages soon."""
    ids = [pk for pk in payload.get("ids", ()) if isinstance(pk, int)]
    if ids:
        indexer.add(ids)
