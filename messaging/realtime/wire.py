"""Events on their way between workers: put in batches, taken many at a time.

Every event goes to the group of worker listeners (``realtime.WORKERS_GROUP``). On Redis,
channels-redis would spend four round trips on each event sent (prune the group, read
it, prune each channel, add) and four on each one received (restore the backup, pop, back
up, clean), one after another. Under load those round trips, not the work, set the pace:
a listener on a busy event loop heard about 40 events a second of the 55 that came,
fell a minute behind, and the layer's expiry dropped the rest.

So, on Redis, both ends use the layer's own keys, hosts and encoding directly:

- :class:`Outbox` sends the events that gather while one batch is on its way as the next
  batch, in one script call per Redis host, to the group's members as last read (read
  again every :data:`MEMBERS_REFRESH_SECONDS`; a worker that joins waits that long before
  it takes sockets, so every sender knows it by then).
- :class:`Inbox` takes every waiting event of a listener channel in one ``ZPOPMIN``, and
  blocks only when there is none.

The layer's guarantees stay as they were: a listener's channel holds at most its capacity
and events for at most the layer's expiry; what does not fit is left out, and the
listener's gap counting (``dispatch.Gaps``) notices. Other layers (the in-process one)
use their own ``group_send`` and ``receive``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import weakref
from typing import Any

from channels_redis.core import RedisChannelLayer

from core.batching import Batcher

logger = logging.getLogger(__name__)

# How long a sender trusts the group's members as it last read them.
MEMBERS_REFRESH_SECONDS = 1.0
# The most events sent in one batch, and taken from a listener channel at once.
MAX_BATCH = 200
# Events of one batch are queued on each channel in order, this far apart (in seconds of
# the channel's score, which is the sender's clock).
SCORE_STEP = 1e-6

# KEYS: the listener channels on one host. ARGV: now, expiry, each key's capacity, then
# for each event its message for each key. Adds what fits, in order; how many did not.
SEND_SCRIPT = """
local now = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local keys = #KEYS
local first = 3 + keys
local events = (#ARGV - first + 1) / keys
local over = 0
for i = 1, keys do
    local key = KEYS[i]
    redis.call('ZREMRANGEBYSCORE', key, 0, now - expiry)
    local room = tonumber(ARGV[2 + i]) - redis.call('ZCARD', key)
    for e = 0, events - 1 do
        if room > 0 then
            redis.call('ZADD', key, now + e * %s, ARGV[first + e * keys + i - 1])
            room = room - 1
        else
            over = over + 1
        end
    end
    redis.call('EXPIRE', key, expiry)
end
return over
""" % repr(SCORE_STEP)


def on_redis(layer) -> bool:
    return isinstance(layer, RedisChannelLayer)


class Outbox:
    """One per event loop: its events to a group, in batches."""

    def __init__(self, layer, group: str, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.group = group
        self.loop = loop
        # Hand-overs (each a list of events, kept together), up to MAX_BATCH events a batch.
        self.batcher: Batcher[list[dict[str, Any]], None] = Batcher(
            self._send_batch, loop=loop, max_size=MAX_BATCH, size=len, name="switchboard-outbox"
        )
        self.redis = on_redis(layer)
        self._read_at = float("-inf")
        # Redis host index -> [(key, capacity, the group's channels behind that key)].
        self._targets: dict[int, list[tuple[str, int, list[str]]]] = {}
        self._last_score = 0.0

    async def put(self, message: dict[str, Any]) -> None:
        """Send to every member of the group; raises if the layer is unreachable."""
        await self.put_many([message])

    async def put_many(self, messages: list[dict[str, Any]]) -> None:
        """Send these, in order, to every member of the group; raises if the layer is
        unreachable."""
        await self.batcher.submit(messages)

    async def _send_batch(self, handovers: list[list[dict[str, Any]]]) -> list[BaseException | None]:
        error = None
        for _attempt in range(2):
            try:
                await self.send([message for messages in handovers for message in messages])
                return [None] * len(handovers)
            except Exception as failure:
                # Once more: after a Redis restart the pool's first connection is dead.
                error = failure
                self._read_at = float("-inf")
        return [error] * len(handovers)

    async def send(self, messages: list[dict[str, Any]]) -> None:
        if not self.redis:
            for message in messages:
                await self.layer.group_send(self.group, message)
            return
        layer = self.layer
        if self.loop.time() >= self._read_at + MEMBERS_REFRESH_SECONDS:
            await self._read_members()
        # Each batch's scores follow the last one's, so one sender's events stay in order.
        now = max(time.time(), self._last_score + SCORE_STEP)
        self._last_score = now + SCORE_STEP * (len(messages) - 1)
        for index, targets in self._targets.items():
            args: list[Any] = [now, layer.expiry, *(capacity for _key, capacity, _channels in targets)]
            for message in messages:
                args += [layer.serialize({**message, "__asgi_channel__": channels}) for _key, _c, channels in targets]
            connection = layer.connection(index)
            over = await connection.eval(SEND_SCRIPT, len(targets), *(key for key, _c, _ch in targets), *args)
            if over:
                logger.info("%d event(s) left out of full listener channels", over)

    async def _read_members(self) -> None:
        layer = self.layer
        key = f"{layer.prefix}:group:{self.group}"
        connection = layer.connection(layer.consistent_hash(self.group))
        await connection.zremrangebyscore(key, min=0, max=int(time.time()) - layer.group_expiry)
        channels = [name.decode() for name in await connection.zrange(key, 0, -1)]
        by_key: dict[str, list[str]] = collections.defaultdict(list)
        for channel in channels:
            by_key[layer.non_local_name(channel)].append(channel)
        targets: dict[int, list[tuple[str, int, list[str]]]] = collections.defaultdict(list)
        for local, members in by_key.items():
            targets[layer.consistent_hash(local)].append((layer.prefix + local, layer.get_capacity(members[0]), members))
        self._targets = dict(targets)
        self._read_at = self.loop.time()


_outboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Outbox] = weakref.WeakKeyDictionary()


def get_outbox(layer, group: str) -> Outbox:
    """The running event loop's outbox to this group."""
    loop = asyncio.get_running_loop()
    outbox = _outboxes.get(loop)
    if outbox is None or outbox.layer is not layer or outbox.group != group:
        outbox = _outboxes[loop] = Outbox(layer, group, loop)
    return outbox


class Inbox:
    """A listener channel's waiting events, many at a time. An event taken but not yet
    handed out when the listener stops is gone; the worker then closes its sockets, and
    they resync."""

    def __init__(self, layer, channel: str) -> None:
        self.layer = layer
        self.channel = channel
        self.redis = on_redis(layer)
        if self.redis:
            local = layer.non_local_name(channel)
            self.key = layer.prefix + local
            self.index = layer.consistent_hash(local)

    async def take(self) -> list[dict[str, Any]]:
        if not self.redis:
            return [await self.layer.receive(self.channel)]
        connection = self.layer.connection(self.index)
        popped = await connection.zpopmin(self.key, MAX_BATCH)
        if not popped:
            waited = await connection.bzpopmin(self.key, timeout=self.layer.brpop_timeout)
            popped = [waited[1:]] if waited else []
        messages = []
        for content, _score in popped:
            message = self.layer.deserialize(content)
            to = message.pop("__asgi_channel__", [self.channel])
            # One copy goes to all of this process's channels in the group; a listener
            # this one replaced may be among them.
            if self.channel in (to if isinstance(to, list) else [to]):
                messages.append(message)
        return messages
