"""Publishing events to connections through the channel layer.

Every connection joins its user's group (``user.<id>``), so an event for a set of users
reaches all of their devices on every worker. Events are published only from services,
only after commit: the database stays the source of truth and the channel layer is the
fast path.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def event(kind: str, frame: dict[str, Any], *, origin: str | None = None, **meta: Any) -> dict[str, Any]:
    """A channel-layer message carrying a ready-to-send frame.

    The frame is serialised once here, not once per receiving connection.
    """
    return {"type": kind, "text": json.dumps(frame, separators=(",", ":")), "origin": origin, **meta}


_send_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _slots() -> asyncio.Semaphore:
    """Bounds this process's concurrent sends so that a large fan-out waits for Redis
    connections instead of exhausting the pool."""
    loop = asyncio.get_running_loop()
    if loop not in _send_slots:
        _send_slots.clear()  # a new event loop (tests): the old semaphores are useless
        _send_slots[loop] = asyncio.Semaphore(settings.CHANNEL_SEND_CONCURRENCY)
    return _send_slots[loop]


async def publish_to_users_async(user_ids: Iterable[int], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    slots = _slots()

    async def send(uid: int) -> None:
        async with slots:
            await layer.group_send(user_group(uid), message)

    await asyncio.gather(*(send(uid) for uid in set(user_ids)))


_server_loop: asyncio.AbstractEventLoop | None = None


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the worker's event loop, so that publishing from a database thread hands
    the sends to it instead of waiting for them."""
    global _server_loop
    _server_loop = loop


def publish_to_users(user_ids: Iterable[int], message: dict[str, Any]) -> None:
    ids = list(set(user_ids))
    if not ids:
        return
    message["published_at"] = time.time()
    loop = _server_loop
    if loop is not None and loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            # Called from a worker's database thread after commit: the sends go out on the
            # event loop while this thread moves on to the next request.
            asyncio.run_coroutine_threadsafe(publish_to_users_async(ids, message), loop)
            return
    async_to_sync(publish_to_users_async)(ids, message)


def publish_on_commit(user_ids: Iterable[int], message: dict[str, Any]) -> None:
    ids = list(set(user_ids))
    transaction.on_commit(lambda: publish_to_users(ids, message))


def publish_app_event_on_commit(user_ids: Iterable[int], *, app: str, data: dict[str, Any]) -> None:
    """Tell these users' clients something about an app's object (an approval's new
    state, say), as an ``app_event`` frame; the app's renderer on the client acts on it."""
    publish_on_commit(user_ids, event("app.event", {"type": "app_event", "app": app, "data": data}))
