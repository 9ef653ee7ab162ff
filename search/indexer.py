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

import atexit
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction

from core.errors import json_strings
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


class Indexer:
    """A process's queue of messages to index, and the thread that indexes them.

    ``mode`` is ``"thread"`` (the default: a daemon thread indexes what was added, in
    batches, within moments), ``"now"`` (``add`` indexes at once, in the caller's thread)
    or ``"manual"`` (ids wait for :meth:`flush`; the test suite's default).
    """

    def __init__(self) -> None:
        self.mode = "thread"
        self.pending: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, ids: Iterable[int]) -> None:
        with self._lock:
            self.pending.update(ids)
        if self.mode == "now":
            self.flush()
        elif self.mode == "thread":
            self._ensure_thread()
            self._wake.set()

    def flush(self, index: Callable[[list[int]], int] = documents_update) -> int:
        """Index everything pending, in this thread (or with ``index``, given each batch);
        returns how many documents were written."""
        written = 0
        while True:
            with self._lock:
                batch = sorted(self.pending)[:BATCH]
                self.pending.difference_update(batch)
            if not batch:
                return written
            try:
                written += index(batch)
            except Exception:
                # They stay out of date until edited again or search_reindex runs.
                log.exception("could not index messages %s…", batch[:10])

    @staticmethod
    def hand_over(batch: list[int]) -> int:
        """Index ``batch`` in a Celery worker; here when Celery runs tasks eagerly, or when
        the broker cannot take the task. Returns the documents written here (0 if handed over)."""
        from imsite.celery import app

        from .tasks import index_messages

        if app.conf.task_always_eager:
            return documents_update(batch)
        try:
            index_messages.delay(batch)
        except Exception:  # noqa: BLE001  (any broker error: index here rather than not at all)
            log.warning("could not hand messages to Celery; indexing them here", exc_info=True)
            return documents_update(batch)
        return 0

    def _ensure_thread(self) -> None:
        # A forked child (a Celery worker) has the lock's and the thread's copies, not the thread.
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            # What arrives meanwhile joins the batch: a busy worker indexes a few times a
            # second, not once per message, and leaves its event loop the interpreter.
            time.sleep(GATHER_SECONDS)
            self._wake.clear()
            try:
                self.flush(index=self.hand_over)
            finally:
                # This thread's connection goes back (to the pool, on PostgreSQL).
                connection.close()

    def _flush_at_exit(self) -> None:
        # A command that sent messages and ends: what the thread had no time for.
        if self.mode == "thread" and self.pending:
            try:
                self.flush()
            except Exception:  # noqa: BLE001  (the interpreter is going away)
                log.exception("could not index pending messages at exit")


indexer = Indexer()
atexit.register(indexer._flush_at_exit)


def messages_changed(payload: dict[str, Any]) -> None:
    """``message.stored`` and ``message.changed``: index these messages soon."""
    ids = [pk for pk in payload.get("ids", ()) if isinstance(pk, int)]
    if ids:
        indexer.add(ids)
