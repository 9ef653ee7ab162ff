"""Fan-out once per worker: the worker's own index of its sockets, and its listener.

Each worker process keeps ``user id -> its connections here`` and one listener channel on
the channel layer, a member of the group ``workers`` (``messaging.realtime.publish``). An event
is one channel-layer message to that group, carrying its audience's ids; each worker's
listener hands it to its own connections of those users. A message to a department of
5,000 costs one channel-layer send and one receive per worker, not one send per member.

The listener is also how a worker learns that the channel layer lost its state. Redis
here keeps nothing on disk, so a restart forgets the group (the listener would hear
nothing again) and presence. When the listener's receive fails, or the worker's mark in
Redis (``presence.worker_intact``) is gone, the worker closes every socket it holds with
:data:`CLOSE_SERVICE_RESTART`, so that no socket stays open but deaf: clients reconnect
and ``sync``, and whatever was acknowledged meanwhile is in the database. Until the
worker is back in the group, new sockets are closed with :data:`CLOSE_TRY_AGAIN_LATER`.

channels-redis drops, without a word, what would go past a channel's capacity
(``CHANNEL_LISTENER_CAPACITY``) and what waits longer than its expiry. Every publishing
process numbers its events (``realtime.Numbering``), and the listener watches each
publisher's numbers (:class:`Gaps`): a number that should have arrived before a later
event and did not is counted as lost (``switchboard_dropped_events_total{kind=
"listener_overflow"}``) and logged.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import uuid
from collections.abc import Iterable, Set as AbstractSet
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from .. import metrics
from . import presence, wire
from .publish import FANOUT, WORKERS_GROUP, bind_server_loop

# Daphne's WebSocket library sends only 1000 and 3000-4999, so these are the private-use
# twins of 1012 (service restart) and 1013 (try again later).
CLOSE_SERVICE_RESTART = 4012
CLOSE_TRY_AGAIN_LATER = 4013

LISTENER_PREFIX = "workers"
# A large audience's deliveries give the event loop back this often, so that one event
# to thousands does not hold up every other socket of the worker.
YIELD_EVERY = 200
# Group membership expires after the layer's group_expiry (a day by default).
REJOIN_SECONDS = 300
JOIN_WAIT_SECONDS = 2.0 + wire.MEMBERS_REFRESH_SECONDS
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
# A publisher not heard from for this long is forgotten (a Celery child that exited).
PUBLISHER_FORGET_SECONDS = 3600.0
# An event still missing this long after a later one of its publisher arrived is lost.
MISSING_GRACE_SECONDS = 10.0
MAX_TRACKED_MISSING = 10_000

logger = logging.getLogger(__name__)


class LocalConnection(Protocol):
    channel_name: str

    async def deliver(self, event: dict[str, Any]) -> None: ...
    async def close(self, code: int | None = None) -> None: ...


class LayerLost(Exception):
    pass


class Gaps:
    """Which events of each publisher a listener never received.

    Each event carries its publisher's number and ``settled`` (``realtime.Numbering``):
    every number below ``settled`` had reached Redis before the event was sent. A number
    below it that has not been heard is *missing*. It is not yet lost: a listener's queue
    is ordered by the sender's clock at the moment of sending, not by arrival, so an event
    can still come in after a later one (the clock stepped back). A number missing for
    :data:`MISSING_GRACE_SECONDS` is counted lost; one that turns up in time is counted
    late. The first event heard from a publisher is where its count begins for this
    listener (it may have joined late).
    """

    def __init__(self) -> None:
        self.expected: dict[str, int] = {}  # the lowest number neither heard nor missing
        self.ahead: dict[str, set[int]] = {}  # numbers heard above it
        self.missing: dict[str, dict[int, float]] = {}  # number -> when it went missing
        self.heard: dict[str, float] = {}
        self.lost = 0
        self.late = 0

    def see(self, publisher: str, number: int, settled: int, now: float) -> None:
        self.heard[publisher] = now
        expected = self.expected.get(publisher)
        ahead = self.ahead.setdefault(publisher, set())
        missing = self.missing.setdefault(publisher, {})
        if expected is None:
            expected = number + 1
        elif number >= expected:
            ahead.add(number)
        elif missing.pop(number, None) is not None:
            self.late += 1
        if settled > expected:
            heard = {n for n in ahead if n < settled}
            # A gap this long is a listener that heard nothing for a long while: no late
            # arrival could fill it, and remembering each number would cost memory.
            if settled - expected > MAX_TRACKED_MISSING:
                self.lost += settled - expected - len(heard)
            else:
                missing.update(dict.fromkeys((n for n in range(expected, settled) if n not in heard), now))
            ahead -= heard
            expected = settled
        while expected in ahead:
            ahead.discard(expected)
            expected += 1
        self.expected[publisher] = expected

    def expire(self, now: float) -> None:
        """Count as lost what has been missing past the grace period."""
        for missing in self.missing.values():
            overdue = [n for n, since in missing.items() if now - since >= MISSING_GRACE_SECONDS]
            for n in overdue:
                del missing[n]
            self.lost += len(overdue)

    def take(self) -> tuple[int, int]:
        """How many events were counted lost and late since the last call."""
        counts = (self.lost, self.late)
        self.lost = self.late = 0
        return counts

    def forget(self, now: float) -> None:
        """Forget publishers not heard from for long (a Celery child that exited)."""
        for publisher in [p for p, at in self.heard.items() if now - at > PUBLISHER_FORGET_SECONDS]:
            del self.heard[publisher], self.expected[publisher], self.ahead[publisher], self.missing[publisher]


class Dispatcher:
    """One per worker process (and event loop)."""

    def __init__(self, layer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.connections: dict[int, set[LocalConnection]] = {}
        # Client address -> how many of the sockets above came from it (the handshake's limit).
        self.addresses: collections.Counter[str] = collections.Counter()
        # user id -> this worker's connections subscribed to that user's presence.
        self.subscribers: dict[int, set[LocalConnection]] = {}
        # How many of this worker's connections take everyone's presence (protocol v1's
        # default); presence is told whether there are any (PresenceRegistry.v1_mark).
        self.v1_watchers = 0
        self.channel: str | None = None
        # A channel of a dispatcher this one replaced (tests run one event loop each).
        self.stale_channel: str | None = None
        self.mark = uuid.uuid4().hex
        self._joined = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.gaps = Gaps()

    # --- the index ---------------------------------------------------------------------
    def register(self, user_id: int, connection: LocalConnection, address: str | None = None) -> None:
        self.connections.setdefault(user_id, set()).add(connection)
        if address is not None:
            self.addresses[address] += 1

    def unregister(self, user_id: int, connection: LocalConnection, address: str | None = None) -> None:
        local = self.connections.get(user_id)
        if local is not None and connection in local:
            local.discard(connection)
            if not local:
                del self.connections[user_id]
            if address is not None:
                self.addresses[address] -= 1
                if self.addresses[address] <= 0:
                    del self.addresses[address]

    def open_for(self, user_id: int) -> int:
        """How many sockets this worker holds for a user."""
        return len(self.connections.get(user_id, ()))

    def open_from(self, address: str) -> int:
        """How many sockets this worker holds from a client address."""
        return self.addresses.get(address, 0)

    def subscribe(self, connection: LocalConnection, before: AbstractSet[int], after: AbstractSet[int]) -> None:
        """A connection's presence subscriptions went from ``before`` to ``after``."""
        for user_id in before - after:
            local = self.subscribers.get(user_id)
            if local is not None:
                local.discard(connection)
                if not local:
                    del self.subscribers[user_id]
        for user_id in after - before:
            self.subscribers.setdefault(user_id, set()).add(connection)

    async def watch_everyone(self) -> None:
        """A connection of this worker takes everyone's presence: from now on, presence
        changes are published to their watchers (:func:`presence.presence_change`)."""
        self.v1_watchers += 1
        await presence.get_presence().v1_mark(True)

    def unwatch_everyone(self) -> asyncio.Task | None:
        """A v1 connection went; after the last one, the task that clears the mark."""
        self.v1_watchers -= 1
        if not self.v1_watchers:
            return self.loop.create_task(self._unmark_v1())
        return None

    async def _unmark_v1(self) -> None:
        try:
            # The count as it is when this runs: a connection may have come meanwhile.
            await presence.get_presence().v1_mark(self.v1_watchers > 0)
        except Exception:
            # Redis away: the mark stays until the presence heartbeat clears it, and
            # presence changes keep going to the watchers meanwhile (more work, nothing missed).
            logger.warning("could not clear this worker's v1 presence mark", exc_info=True)

    @property
    def joined(self) -> bool:
        return self._joined.is_set()

    async def ready(self) -> bool:
        """Start listening if this is the worker's first socket; whether the worker is in
        the group, so that a new socket will hear its events."""
        if self._task is None or self._task.done():
            bind_server_loop(self.loop)
            self._task = self.loop.create_task(self._run(), name="switchboard-dispatcher")
        if not self._joined.is_set():
            try:
                await asyncio.wait_for(self._joined.wait(), JOIN_WAIT_SECONDS)
            except TimeoutError:
                return False
        return True

    # --- delivery ----------------------------------------------------------------------
    async def deliver(self, user_ids: list[int], event: dict[str, Any], subject: int | None = None) -> int:
        """Hand an event to this worker's connections of these users, and to those
        subscribed to ``subject``'s presence; how many."""
        delivered = 0
        groups: Iterable[set[LocalConnection] | None] = (self.connections.get(user_id) for user_id in user_ids)
        if subject is not None:
            groups = itertools.chain(groups, (self.subscribers.get(subject),))
        for local in groups:
            if not local:
                continue
            for connection in tuple(local):  # a connection may leave while we yield
                try:
                    await connection.deliver(event)
                except Exception:
                    logger.exception("delivering a %s event failed", event.get("type"))
                delivered += 1
                if delivered % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        return delivered

    # --- membership and listening ---------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._join()
            except Exception:
                logger.warning("cannot join the channel layer; retrying", exc_info=attempt == 0)
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
                continue
            attempt = 0
            self._joined.set()
            error = await self._serve()
            self._joined.clear()
            metrics.LAYER_RESETS.inc()
            logger.warning("lost the channel layer (%s); closing this worker's sockets", error)
            await self._close_all()

    async def _join(self) -> None:
        if self.channel is None:
            self.channel = await self.layer.new_channel(prefix=LISTENER_PREFIX)
        await self.layer.group_add(WORKERS_GROUP, self.channel)
        if wire.on_redis(self.layer):
            # Until every sender has read the group again, some would leave this one out.
            await asyncio.sleep(wire.MEMBERS_REFRESH_SECONDS)
        if self.stale_channel is not None:
            await self.layer.group_discard(WORKERS_GROUP, self.stale_channel)
            self.stale_channel = None
        await presence.get_presence().worker_up(self.mark)

    async def _serve(self) -> BaseException:
        """Listen and watch until either fails; the error."""
        self.gaps = Gaps()
        tasks = [
            self.loop.create_task(self._listen(), name="switchboard-listener"),
            self.loop.create_task(self._watch(), name="switchboard-layer-watch"),
        ]
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        failed = next(iter(done))
        return failed.exception() or LayerLost("listener stopped")

    async def _listen(self) -> None:
        inbox = wire.Inbox(self.layer, self.channel)
        while True:
            for message in await inbox.take():
                if message.get("type") != FANOUT:
                    continue
                if "publisher" in message:
                    self.gaps.see(message["publisher"], message["n"], message["settled"], self.loop.time())
                await self.deliver(message["users"], message["event"], message.get("subject"))

    def _check_gaps(self) -> None:
        self.gaps.expire(self.loop.time())
        lost, late = self.gaps.take()
        metrics.LAYER_LATE.inc(late)
        if lost:
            # Counted and logged; the sockets stay open: a worker-wide reconnect is itself
            # a storm, and clients fill seq gaps with sync.
            metrics.DROPPED.labels(kind="listener_overflow").inc(lost)
            logger.warning("%d event(s) never reached this worker's listener", lost)

    async def _watch(self) -> None:
        registry = presence.get_presence()
        rejoin = self.loop.time() + REJOIN_SECONDS
        while True:
            await asyncio.sleep(settings.LAYER_CHECK_SECONDS)
            self._check_gaps()
            self.gaps.forget(self.loop.time())
            if not await registry.worker_intact(self.mark):
                raise LayerLost("Redis lost this worker's state; it restarted")
            if self.loop.time() >= rejoin:
                await self.layer.group_add(WORKERS_GROUP, self.channel)
                rejoin = self.loop.time() + REJOIN_SECONDS

    async def _close_all(self) -> None:
        closing = [connection for local in self.connections.values() for connection in local]
        for count, connection in enumerate(closing, 1):
            try:
                await connection.close(code=CLOSE_SERVICE_RESTART)
            except Exception:
                logger.exception("closing %s failed", connection.channel_name)
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)


_dispatcher: Dispatcher | None = None


def get_dispatcher() -> Dispatcher:
    """This worker's dispatcher, on the running event loop."""
    global _dispatcher
    loop = asyncio.get_running_loop()
    if _dispatcher is None or _dispatcher.loop is not loop:
        stale = _dispatcher
        _dispatcher = Dispatcher(get_channel_layer(), loop)
        if stale is not None:
            _dispatcher.stale_channel = stale.channel
    return _dispatcher


def connection_name() -> str:
    """A name for a new connection, unique across workers: its key in presence, the
    ``origin`` of the events it causes, and its row in ``Connection``."""
    return f"{settings.SWITCHBOARD_WORKER_NAME}!{uuid.uuid4().hex}"
