"""Publishing events to connections through the channel layer.

An event goes to the channel layer once, whatever its audience: one message to the group
of worker listeners (``workers``) carrying the ids of the users it is for and the frame,
serialised once. Each worker hands it to its own connections of those users
(``messaging.realtime.dispatch``). Events are published only from services, only after commit:
the database stays the source of truth and the channel layer is the fast path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .. import metrics
from ..frames import app_event_frame
from . import wire

# Every worker that holds sockets has one listener channel in this group.
WORKERS_GROUP = "workers"
# The channel-layer message type that carries an event and its audience.
FANOUT = "fanout"

logger = logging.getLogger(__name__)


class Numbering:
    """Numbers this process's events 1, 2, 3… under a name of its own, so that a listener
    that misses one (channels-redis drops what exceeds a channel's capacity or waits past
    its expiry, without a word) can tell (``messaging.realtime.dispatch.Gaps``).

    Sends run concurrently, so their events may reach a listener out of order. Each event
    therefore also carries ``settled``: the lowest number still being sent when it left.
    Every number below it had reached Redis before this event was sent, so a listener
    that has not heard one by then most likely never will. A forked child (Celery's pool)
    gets a name and count of its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self.name = ""
        self._next = 1
        self._sending: set[int] = set()

    def take(self) -> tuple[str, int, int]:
        """A new event's publisher name, number and ``settled``."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self.name, self._next, self._sending = os.getpid(), uuid.uuid4().hex[:12], 1, set()
            number = self._next
            self._next += 1
            self._sending.add(number)
            return self.name, number, min(self._sending)

    def sent(self, number: int) -> None:
        """The event went to Redis, or never will."""
        with self._lock:
            self._sending.discard(number)


numbering = Numbering()


def event(kind: str, frame: dict[str, Any], *, origin: str | None = None, **meta: Any) -> dict[str, Any]:
    """An event carrying a ready-to-send frame.

    The frame is serialised once here, not once per receiving connection.
    """
    return {"type": kind, "text": json.dumps(frame, separators=(",", ":")), "origin": origin, **meta}


async def publish_to_users_async(
    user_ids: Iterable[int], message: dict[str, Any], *, subject: int | None = None
) -> None:
    """Publish an event to these users' connections and, with a ``subject`` (a user whose
    presence changed), to the connections subscribed to that user's presence."""
    await publish_many_async([(user_ids, message)], subject=subject)


async def publish_many_async(
    events: list[tuple[Iterable[int], dict[str, Any]]], *, subject: int | None = None
) -> None:
    """Publish several events, each to its users, in one hand-over to the outbox."""
    layer = get_channel_layer()
    if layer is None:
        return
    fanouts, numbers = [], []
    for user_ids, message in events:
        ids = list(set(user_ids))
        if not (ids or subject is not None):
            continue
        publisher, number, settled = numbering.take()
        fanout = {"type": FANOUT, "users": ids, "event": message, "publisher": publisher, "n": number, "settled": settled}
        if subject is not None:
            fanout["subject"] = subject
        fanouts.append(fanout)
        numbers.append(number)
    if not fanouts:
        return
    try:
        await wire.get_outbox(layer, WORKERS_GROUP).put_many(fanouts)
    except Exception:
        # Redis unreachable: what was stored is in the database, and the sockets that
        # should have had it are being closed so that their clients resync. An event that
        # failed to go out keeps its number: listeners then count it missing.
        logger.warning(
            "channel layer unreachable: %d event(s) (%s) reached no one",
            len(fanouts),
            ", ".join(sorted({str(f["event"].get("type")) for f in fanouts})),
            exc_info=True,
        )
        metrics.DROPPED.labels(kind="layer_unreachable").inc(len(fanouts))
        return
    finally:
        for number in numbers:
            numbering.sent(number)
    metrics.LAYER_PUBLISHES.inc(len(fanouts))


_server_loop: asyncio.AbstractEventLoop | None = None


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the worker's event loop, so that publishing from a database thread hands
    the sends to it instead of waiting for them."""
    global _server_loop
    _server_loop = loop


def publish_to_users(user_ids: Iterable[int], message: dict[str, Any]) -> None:
    publish_many([(user_ids, message)])


def publish_many(events: list[tuple[Iterable[int], dict[str, Any]]]) -> None:
    """Publish these events (each to its users) from synchronous code. From a worker's
    database thread they go to the event loop in one hand-over, and this thread moves on
    to the next request without waiting for them."""
    # Each audience is read once here (it may be any iterable) and deduplicated on the loop.
    events = [(ids, message) for user_ids, message in events if (ids := list(user_ids))]
    if not events:
        return
    now = time.time()
    for _ids, message in events:
        message["published_at"] = now
    loop = _server_loop
    if loop is not None and loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            asyncio.run_coroutine_threadsafe(publish_many_async(events), loop)
            return
    async_to_sync(publish_many_async)(events)


def publish_on_commit(user_ids: Iterable[int], message: dict[str, Any]) -> None:
    ids = list(set(user_ids))
    transaction.on_commit(lambda: publish_to_users(ids, message))


def publish_app_event_on_commit(user_ids: Iterable[int], *, app: str, data: dict[str, Any]) -> None:
    """Tell these users' clients something about an app's object (an approval's new
    state, say), as an ``app_event`` frame; the app's renderer on the client acts on it."""
    publish_on_commit(user_ids, event("app.event", app_event_frame(app=app, data=data)))
