"""Ids handed to a Celery task in batches, off the path that produced them.

The send path publishes the ids of what it stored (``core.bus``, after commit); work on
them that is not part of the send (indexing for search, pushes to phones) goes to an
:class:`IdHandover`. Its ``add`` only puts the ids in a set; a thread of the process
gathers them for a moment and hands each batch to the Celery task, so a busy web worker
writes one task a few times a second rather than one per message, and spends none of its
interpreter on the work itself. Where Celery runs its tasks eagerly (the embedded
default, without a broker), or the broker refuses the task, the thread does the work
itself, still off the send path.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable

from django.db import connection

log = logging.getLogger(__name__)


class IdHandover:
    """A process's ids waiting for ``work``, and the thread that hands them over.

    ``work(batch)`` does the work in this process and returns a count; ``task()`` returns
    the Celery task that does it in a Celery worker (a callable, so that the task's module
    is imported on first use). ``mode`` is ``"thread"`` (the default: the thread hands
    batches over within ``gather`` seconds), ``"now"`` (``add`` does the work at once, in
    the caller's thread) or ``"manual"`` (ids wait for :meth:`flush`; for tests).
    """

    def __init__(
        self,
        name: str,
        work: Callable[[list[int]], int],
        task: Callable[[], object],
        *,
        batch: int = 500,
        gather: float = 0.25,
    ) -> None:
        self.name, self.work, self.task, self.batch, self.gather = name, work, task, batch, gather
        self.mode = "thread"
        self.pending: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        atexit.register(self._flush_at_exit)

    def add(self, ids: Iterable[int]) -> None:
        with self._lock:
            self.pending.update(ids)
        if self.mode == "now":
            self.flush()
        elif self.mode == "thread":
            self._ensure_thread()
            self._wake.set()

    def flush(self, work: Callable[[list[int]], int] | None = None) -> int:
        """Do the work of everything pending, in this thread (or hand each batch to
        ``work``); returns the sum of the counts."""
        work = work or self.work
        done = 0
        while True:
            with self._lock:
                batch = sorted(self.pending)[: self.batch]
                self.pending.difference_update(batch)
            if not batch:
                return done
            try:
                done += work(batch)
            except Exception:
                log.exception("%s: could not handle %s…", self.name, batch[:10])

    def hand_over(self, batch: list[int]) -> int:
        """``batch`` to the Celery task; the work done here when Celery runs tasks eagerly,
        or when the broker cannot take the task. Returns the count of the work done here
        (0 if handed over)."""
        from imsite.celery import app

        if app.conf.task_always_eager:
            return self.work(batch)
        try:
            self.task().delay(batch)
        except Exception:  # noqa: BLE001  (any broker error: the work here rather than not at all)
            log.warning("%s: could not hand a batch to Celery; handling it here", self.name, exc_info=True)
            return self.work(batch)
        return 0

    def _ensure_thread(self) -> None:
        # A forked child (a Celery worker) has the lock's and the thread's copies, not the thread.
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            # What arrives meanwhile joins the batch: a busy worker hands over a few times
            # a second, not once per message.
            time.sleep(self.gather)
            self._wake.clear()
            try:
                self.flush(self.hand_over)
            finally:
                # This thread's connection goes back (to the pool, on PostgreSQL).
                connection.close()

    def _flush_at_exit(self) -> None:
        # A command that stored something and ends: what the thread had no time for.
        if self.mode == "thread" and self.pending:
            try:
                self.flush()
            except Exception:  # noqa: BLE001  (the interpreter is going away)
                log.exception("%s: could not handle pending ids at exit", self.name)
