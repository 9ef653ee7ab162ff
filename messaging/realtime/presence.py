"""Who is online, and on which worker: the paper's Information Servers.

Each connection is an entry ``channel -> (status, worker)`` under its user. A user is
``online`` while any entry is online, ``away`` while all are away, ``offline`` with none.
With Redis configured the registry lives there, so every worker sees every other's
connections; each worker keeps a heartbeat key, and entries of a worker whose heartbeat
has lapsed (it died) count for nothing. Without Redis it lives in this process, which is
right for the single-process embedded default.

Who hears a change depends on how each connection asked (docs/protocol.md). A v1
connection takes the presence of all its contacts, unasked: a change then goes to every
watcher of the user, which is N squared when a department of thousands comes online at
once. A connection opened with ``?presence=subscribe`` names the users it shows
(``presence_subscribe``) and hears only those, through each worker's index of
subscriptions. A change is therefore published once with its subject, for the
subscribers, and with the watchers' ids only while some worker holds a v1 connection
(``v1_mark``, ``v1_anywhere``); with none, a change costs no query at all.

Each worker also keeps a mark in every Redis host (``worker_up``) and checks it every
couple of seconds (``worker_intact``): Redis here keeps nothing on disk, so a restart
wipes presence and the channel layer's groups alike, and a missing mark is how a worker
learns of it (``messaging.realtime.dispatch``).
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import time
from typing import Protocol

from core.db import db
from django.conf import settings

from contacts import policy

from ..frames import presence_frame
from .publish import event, publish_to_users_async

ONLINE, AWAY, OFFLINE = "online", "away", "offline"
# The most users one connection may subscribe to at a time (a screenful or a few).
MAX_SUBSCRIPTIONS = 500
HEARTBEAT_SECONDS = 10
HEARTBEAT_TTL = 30
# The mark is refreshed every couple of seconds; the TTL only clears a dead worker's.
MARK_TTL = 600


def aggregate(statuses: list[str]) -> str:
    if ONLINE in statuses:
        return ONLINE
    return AWAY if statuses else OFFLINE


class PresenceRegistry(Protocol):
    async def set(self, user_id: int, channel: str, status: str) -> tuple[str, str]: ...
    async def remove(self, user_id: int, channel: str) -> tuple[str, str]: ...
    async def statuses(self, user_ids: list[int]) -> dict[int, str]: ...
    async def worker_up(self, mark: str) -> None: ...
    async def worker_intact(self, mark: str) -> bool: ...
    async def v1_mark(self, present: bool) -> None:
        """Whether this worker holds a v1 connection; returns once that is recorded."""

    async def v1_anywhere(self) -> bool: ...


class MemoryPresence:
    def __init__(self, worker: str) -> None:
        self.worker = worker
        self._entries: dict[int, dict[str, str]] = {}
        self._v1 = False

    def _status(self, user_id: int) -> str:
        return aggregate(list(self._entries.get(user_id, {}).values()))

    async def set(self, user_id: int, channel: str, status: str) -> tuple[str, str]:
        before = self._status(user_id)
        self._entries.setdefault(user_id, {})[channel] = status
        return before, self._status(user_id)

    async def remove(self, user_id: int, channel: str) -> tuple[str, str]:
        before = self._status(user_id)
        entries = self._entries.get(user_id, {})
        entries.pop(channel, None)
        if not entries:
            self._entries.pop(user_id, None)
        return before, self._status(user_id)

    async def statuses(self, user_ids: list[int]) -> dict[int, str]:
        return {uid: self._status(uid) for uid in user_ids if uid in self._entries}

    async def worker_up(self, mark: str) -> None:
        pass

    async def worker_intact(self, mark: str) -> bool:
        return True  # it lives and dies with this process

    async def v1_mark(self, present: bool) -> None:
        self._v1 = present

    async def v1_anywhere(self) -> bool:
        return self._v1


class RedisPresence:
    """Entries in a Redis hash per user, sharded over the configured hosts like the channel layer."""

    def __init__(self, urls: list[str], worker: str) -> None:
        import redis.asyncio as redis

        self.worker = worker
        # A blocking pool: under a burst of connections, wait for a free Redis connection
        # instead of failing (redis-py's default pool raises past 100).
        self._clients = [
            redis.Redis(
                connection_pool=redis.BlockingConnectionPool.from_url(
                    url,
                    max_connections=settings.REDIS_POOL_SIZE,
                    timeout=20,
                    socket_timeout=5,
                    health_check_interval=30,
                    driver_info=None,  # as the channel layer's (settings.CHANNEL_LAYERS)
                )
            )
            for url in urls
        ]
        self._heartbeat: asyncio.Task | None = None
        # Entries whose removal failed (Redis away): removed when it is back.
        self._orphans: set[tuple[int, str]] = set()
        # Whether this worker holds a v1 connection, as last marked and as last written.
        self._v1 = False
        self._v1_written: bool | None = None
        self._v1_lock = asyncio.Lock()

    def _shard(self, user_id: int) -> int:
        """The host of a user's entries: the channel layer's own placement (CRC32 of the
        key onto 4,096 slots, split evenly between the hosts), so that presence and the
        layer spread the same way over the same hosts."""
        if len(self._clients) == 1:
            return 0
        return int((binascii.crc32(self._key(user_id).encode()) & 0xFFF) / (4096 / len(self._clients)))

    def _client(self, user_id: int):
        return self._clients[self._shard(user_id)]

    @staticmethod
    def _key(user_id: int) -> str:
        return f"sb:presence:{user_id}"

    @staticmethod
    def _worker_key(worker: str) -> str:
        return f"sb:worker:{worker}"

    # The workers that hold a v1 connection, on the first host.
    V1_KEY = "sb:presence:v1"

    async def _beat(self) -> None:
        while True:
            try:
                for client in self._clients:
                    await client.set(self._worker_key(self.worker), str(time.time()), ex=HEARTBEAT_TTL)
                # The v1 mark again: a write that failed, or a restart, heals here.
                await self._v1_write()
            except Exception:  # Redis restarting: try again at the next beat
                pass
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            for client in self._clients:
                await client.set(self._worker_key(self.worker), str(time.time()), ex=HEARTBEAT_TTL)
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _live_entries(self, user_ids: list[int]) -> dict[int, dict[str, tuple[str, str]]]:
        by_client: dict[int, list[int]] = {}
        for uid in user_ids:
            by_client.setdefault(self._shard(uid), []).append(uid)
        raw: dict[int, dict[str, tuple[str, str]]] = {}
        workers: set[str] = set()
        for index, uids in by_client.items():
            pipe = self._clients[index].pipeline(transaction=False)
            for uid in uids:
                pipe.hgetall(self._key(uid))
            for uid, entries in zip(uids, await pipe.execute()):
                parsed = {}
                for channel, value in entries.items():
                    status, _sep, worker = value.decode().partition("|")
                    parsed[channel.decode()] = (status, worker)
                    workers.add(worker)
                if parsed:
                    raw[uid] = parsed
        if not raw:
            return {}
        worker_list = sorted(workers)
        alive_flags = await self._clients[0].mget([self._worker_key(w) for w in worker_list])
        alive = {w for w, flag in zip(worker_list, alive_flags) if flag is not None}
        return {
            uid: {ch: entry for ch, entry in entries.items() if entry[1] in alive}
            for uid, entries in raw.items()
        }

    async def _status(self, user_id: int) -> str:
        entries = (await self._live_entries([user_id])).get(user_id, {})
        return aggregate([status for status, _worker in entries.values()])

    async def set(self, user_id: int, channel: str, status: str) -> tuple[str, str]:
        await self._ensure_heartbeat()
        before = await self._status(user_id)
        await self._client(user_id).hset(self._key(user_id), channel, f"{status}|{self.worker}")
        return before, await self._status(user_id)

    async def remove(self, user_id: int, channel: str) -> tuple[str, str]:
        try:
            before = await self._status(user_id)
            await self._client(user_id).hdel(self._key(user_id), channel)
        except Exception:
            self._orphans.add((user_id, channel))
            raise
        return before, await self._status(user_id)

    @staticmethod
    def _mark_key(mark: str) -> str:
        return f"sb:mark:{mark}"

    async def worker_up(self, mark: str) -> None:
        """Redis is (back) up for this worker: beat now rather than at the next beat, so
        that reconnecting users do not look offline, set the mark, and remove the entries
        of connections that closed while Redis was away."""
        for client in self._clients:
            # Idle connections from before a restart are dead; new ones replace them.
            await client.connection_pool.disconnect(inuse_connections=False)
            await client.set(self._worker_key(self.worker), str(time.time()), ex=HEARTBEAT_TTL)
            await client.set(self._mark_key(mark), self.worker, ex=MARK_TTL)
        await self._v1_write()
        for user_id, channel in list(self._orphans):
            await self._client(user_id).hdel(self._key(user_id), channel)
            self._orphans.discard((user_id, channel))

    async def v1_mark(self, present: bool) -> None:
        self._v1 = present
        await self._v1_write(force=False)

    async def _v1_write(self, *, force: bool = True) -> None:
        # One write at a time, each of the state as it is then, so that the last one is
        # right whatever order connects and disconnects interleave in. A mark already
        # written returns once the write in flight is done; a failed one is tried again.
        async with self._v1_lock:
            if force or self._v1_written != self._v1:
                if self._v1:
                    await self._clients[0].sadd(self.V1_KEY, self.worker)
                else:
                    await self._clients[0].srem(self.V1_KEY, self.worker)
                self._v1_written = self._v1

    async def v1_anywhere(self) -> bool:
        """Whether a live worker holds a v1 connection (a dead one's mark counts for nothing)."""
        workers = sorted(w.decode() for w in await self._clients[0].smembers(self.V1_KEY))
        if not workers:
            return False
        beats = await self._clients[0].mget([self._worker_key(w) for w in workers])
        return any(beat is not None for beat in beats)

    async def worker_intact(self, mark: str) -> bool:
        """Whether every host still holds the mark (refreshing it): a host without it lost
        everything since ``worker_up``."""
        for client in self._clients:
            if not await client.expire(self._mark_key(mark), MARK_TTL):
                return False
        return True

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def statuses(self, user_ids: list[int]) -> dict[int, str]:
        entries = await self._live_entries(user_ids)
        result = {}
        for uid, channels in entries.items():
            status = aggregate([s for s, _w in channels.values()])
            if status != OFFLINE:
                result[uid] = status
        return result


@functools.cache
def get_presence() -> PresenceRegistry:
    if settings.REDIS_URLS:
        return RedisPresence(settings.REDIS_URLS, settings.SWITCHBOARD_WORKER_NAME)
    return MemoryPresence(settings.SWITCHBOARD_WORKER_NAME)


def statuses_now(user_ids: list[int]) -> dict[int, str]:
    """The status of each of these users who is not offline, for code that runs outside
    the workers' event loop (a Celery task). With Redis, through a registry of its own for
    this one question (the worker's registry and its connections belong to its loop); in
    memory, this process's registry, which is the only one."""

    async def ask() -> dict[int, str]:
        if not settings.REDIS_URLS:
            return await get_presence().statuses(user_ids)
        registry = RedisPresence(settings.REDIS_URLS, settings.SWITCHBOARD_WORKER_NAME)
        try:
            return await registry.statuses(user_ids)
        finally:
            await registry.close()

    from asgiref.sync import async_to_sync

    return async_to_sync(ask)() if user_ids else {}


async def presence_change(*, user, channel: str, status: str | None) -> str:
    """Record a connection's status (``None``: it closed) and tell the watchers of a change."""
    registry = get_presence()
    if status is None:
        before, after = await registry.remove(user.pk, channel)
    else:
        before, after = await registry.set(user.pk, channel, status)
    if before != after:
        # To the subscribers of this user, and, while any v1 connection is open, to every
        # watcher, online or not: each worker hands it to the connections it holds and
        # skips the rest for the price of a dict lookup. (Asking Redis first which
        # watchers are online cost a read per watcher per change.)
        watchers = await db(policy.watcher_ids)(user) if await registry.v1_anywhere() else ()
        frame = presence_frame(user_id=user.pk, status=after)
        await publish_to_users_async(
            watchers, event("presence.changed", frame, user=user.pk, status=after), subject=user.pk
        )
    return after


def presence_frames(statuses: dict[int, str]) -> list[dict]:
    return [presence_frame(user_id=uid, status=status) for uid, status in sorted(statuses.items())]


async def presence_connect(*, user, channel: str, everyone: bool = True) -> list[dict]:
    """Mark a new connection online; for a v1 connection (``everyone``), return the
    presence of the user's contacts who are on."""
    await presence_change(user=user, channel=channel, status=ONLINE)
    if not everyone:
        return []
    contacts = await db(policy.contact_ids)(user)
    return presence_frames(await get_presence().statuses(sorted(contacts)))


async def presence_subscribable(*, user, user_ids: list[int]) -> set[int]:
    """Of these users, those whose presence ``user`` may follow: their contacts."""
    return set(user_ids) & await db(policy.contact_ids)(user)


async def presence_of(user_ids: set[int]) -> list[dict]:
    """A ``presence`` frame for each of these users, offline ones included."""
    statuses = await get_presence().statuses(sorted(user_ids))
    return presence_frames({uid: statuses.get(uid, OFFLINE) for uid in user_ids})
