"""Short garbage-collection pauses for a worker that holds thousands of connections.

CPython's full collection walks every tracked object; with 5,000+ sockets open that is
a pause of 0.5–1 s for every connection on the worker. ``gc.freeze()`` moves every object
alive at that moment into a permanent generation that collections skip. Freezing once
after start-up (Django's modules, URL patterns, settings) and then every
``GC_FREEZE_INTERVAL`` seconds (the state of long-lived connections) leaves the collector
only the young objects. The price: reference cycles among frozen objects that later die
are not reclaimed (objects freed by reference counting are), which is why the interval
is a setting and ``0`` turns all of it off.

``imsite.asgi`` wraps the application in :class:`GcFreezing`, which works under any ASGI
server: the first freeze happens when the application is built, the periodic one starts
on the server's event loop at the first call (Daphne has no start-up hook; servers that
speak the lifespan protocol, such as uvicorn, make that call at start-up).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time

from django.core.exceptions import ImproperlyConfigured
from prometheus_client import Counter, Gauge, Histogram

DEFAULT_INTERVAL = 60.0

logger = logging.getLogger(__name__)

FREEZES = Counter(
    "switchboard_gc_freezes_total", "Times this worker moved its live objects out of the collector's way."
)
FROZEN = Gauge("switchboard_gc_frozen_objects", "Objects in the permanent generation, skipped by collections.")
FROZEN.set_function(gc.get_freeze_count)
PAUSES = Histogram(
    "switchboard_gc_pause_seconds",
    "How long each garbage collection held this worker up, by generation (2 is a full one).",
    ["generation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
_pause_began = 0.0


def _time_collection(phase: str, info: dict) -> None:
    global _pause_began
    if phase == "start":
        _pause_began = time.perf_counter()
    else:
        PAUSES.labels(generation=str(info["generation"])).observe(time.perf_counter() - _pause_began)


if _time_collection not in gc.callbacks:
    gc.callbacks.append(_time_collection)


def interval_from_env() -> float:
    raw = os.environ.get("GC_FREEZE_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ImproperlyConfigured("GC_FREEZE_INTERVAL must be a number of seconds (0 turns freezing off).")
    return seconds


def freeze() -> int:
    gc.freeze()
    FREEZES.inc()
    return gc.get_freeze_count()


class GcFreezing:
    """ASGI middleware: freeze once when the application is built (Django is set up and
    every module imported by then), then every ``interval`` seconds on the server's loop."""

    def __init__(self, app, *, interval: float | None = None) -> None:
        self.app = app
        self.interval = interval_from_env() if interval is None else interval
        self.task: asyncio.Task | None = None
        if self.interval > 0:
            logger.info("gc.freeze(): %s objects frozen at start-up", freeze())

    async def __call__(self, scope, receive, send):
        # A server runs one loop for its life; checking on every call also covers a
        # loop that ended (tests run one per test) without any start-up hook.
        if self.interval > 0 and (self.task is None or self.task.done()):
            self.task = asyncio.get_running_loop().create_task(self._periodic())
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        return await self.app(scope, receive, send)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            freeze()

    async def _lifespan(self, receive, send) -> None:
        # The rest of the application has nothing to start or stop; answering here keeps
        # servers that speak lifespan (uvicorn) from logging the router's "no application
        # for lifespan" error, and starts the periodic freeze before the first request.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
