"""A protocol v1 client that survives losing its server (docs/protocol.md, "Reconnecting").

It holds one WebSocket to one of several workers. When the socket is lost it moves on to
the next worker after an exponential backoff with full jitter, asks for what it missed
(``sync`` after each ``hello``) and sends every unacknowledged message again under the
same ``client_id``: the server stores a ``client_id`` once, so nothing is lost and
nothing is doubled. Incoming messages are kept once each, by id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import websockets

logger = logging.getLogger(__name__)

# The token ended (a refused handshake, or close code 4401): only a new token helps.
FATAL_HANDSHAKE_STATUSES = frozenset({401, 403})
FATAL_CLOSE_CODES = frozenset({4401})

Frame = dict[str, Any]


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)], so that the clients one
    worker dropped together do not all come back at the same moment."""
    return (rng or random).uniform(0.0, min(cap, base * 2 ** min(attempt, 32)))


class Inbox:
    """Messages received, once each, and the id a resync must start after."""

    def __init__(self, after: int = 0) -> None:
        self.messages: dict[int, Frame] = {}
        self.duplicates = 0
        self.last_id = after
        # Per conversation: the (seq, id) up to which no seq is missing, and the seqs
        # seen beyond a hole with their ids.
        self._floor: dict[int, tuple[int, int]] = {}
        self._ahead: dict[int, dict[int, int]] = {}

    def add(self, frame: Frame) -> bool:
        """Keep a ``message`` frame; False for an id already kept."""
        if frame["id"] in self.messages:
            self.duplicates += 1
            return False
        self.messages[frame["id"]] = frame
        self.last_id = max(self.last_id, frame["id"])
        self.note(frame["conversation"], frame["seq"], frame["id"])
        return True

    def note(self, conversation: int, seq: int, message_id: int) -> None:
        """Learn that a conversation has this seq (from a message or from our own ack)."""
        floor = self._floor.setdefault(conversation, (seq, message_id))
        if seq <= floor[0]:
            return
        ahead = self._ahead.setdefault(conversation, {})
        ahead[seq] = message_id
        while floor[0] + 1 in ahead:
            floor = (floor[0] + 1, ahead.pop(floor[0] + 1))
        self._floor[conversation] = floor

    def has_holes(self) -> bool:
        return any(self._ahead.values())

    def cursor(self) -> int:
        """The newest id seen, or the id just before the first hole of a conversation:
        within a conversation ids grow with seq, so a sync from there brings the missing
        message back even when a later one (delivered out of order) was already seen."""
        holes = [self._floor[conversation][1] for conversation, ahead in self._ahead.items() if ahead]
        return min([self.last_id, *holes])


class SwitchboardClient:
    """One user's connection to any of ``urls`` (``ws://host:port/ws/``), tried in turn.

    Received messages are in ``inbox.messages`` (by id), acks in ``acks`` (by client_id),
    refused sends in ``rejected``, other errors in ``errors``; ``failure`` says why the
    client gave up, if it did (an ended token: start another client with a new one).
    """

    def __init__(
        self,
        urls: Sequence[str],
        token: str,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 10.0,
        gap_wait: float = 1.0,
        retry_after: float = 1.0,
        after: int | None = None,
        open_timeout: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self.urls, self.token = list(urls), token
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.gap_wait, self.retry_after, self.open_timeout = gap_wait, retry_after, open_timeout
        self.rng = rng or random.Random()
        self._from_first_hello = after is None  # then sync from the first hello's last_message_id
        self.inbox = Inbox(after or 0)
        self.acks: dict[str, Frame] = {}
        self.rejected: dict[str, Frame] = {}
        self.errors: list[Frame] = []
        self.hellos: list[Frame] = []
        self.resent = 0
        self.failure: str | None = None
        self._pending: dict[str, Frame] = {}
        self._ws: websockets.ClientConnection | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._gap_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def unacked(self) -> list[str]:
        return list(self._pending)

    def start(self) -> None:
        self._run_task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop; leaving the connection's context closes the socket cleanly."""
        tasks = [t for t in (self._run_task, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> SwitchboardClient:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def send(
        self, body: Frame, *, conversation: int | None = None, to: int | None = None,
        app: str = "chat", client_id: str | None = None,
    ) -> str:
        """Queue a message until it is acknowledged; it goes out now when connected."""
        if (conversation is None) == (to is None):
            raise ValueError("give either conversation or to")
        client_id = client_id or uuid.uuid4().hex
        frame = {"type": "send", "client_id": client_id, "app": app, "body": body}
        frame.update({"conversation": conversation} if conversation is not None else {"to": to})
        self._pending[client_id] = frame
        await self._transmit(frame)
        return client_id

    # --- the connection ---------------------------------------------------------------------
    async def _run(self) -> None:
        attempt = index = 0
        while True:
            url = self.urls[index % len(self.urls)]
            ws: websockets.ClientConnection | None = None
            try:
                async with websockets.connect(
                    url, additional_headers={"Authorization": f"Bearer {self.token}"},
                    open_timeout=self.open_timeout, max_queue=None,
                ) as ws:
                    async for raw in ws:
                        if await self._on_raw(ws, raw):
                            attempt = 0
            except websockets.InvalidStatus as error:
                if error.response.status_code in FATAL_HANDSHAKE_STATUSES:
                    self.failure = f"handshake refused with HTTP {error.response.status_code}"
                    return
                logger.info("handshake with %s failed: %s", url, error)
            except (OSError, TimeoutError, websockets.WebSocketException) as error:
                logger.info("lost %s: %r", url, error)
            finally:
                self._ws = None
            if ws is not None and ws.close_code in FATAL_CLOSE_CODES:
                self.failure = f"closed by the server with code {ws.close_code}"
                return
            index += 1
            await asyncio.sleep(backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_cap, rng=self.rng))
            attempt += 1

    async def _on_raw(self, ws: websockets.ClientConnection, raw: str | bytes) -> bool:
        """Handle one frame; True for a ``hello``."""
        try:
            frame = json.loads(raw)
            if frame["type"] == "hello":
                await self._on_hello(ws, frame)
                return True
            self._on_frame(frame)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed frame: %.200r", raw)
        return False

    async def _on_hello(self, ws: websockets.ClientConnection, hello: Frame) -> None:
        self.hellos.append(hello)
        if self._from_first_hello and len(self.hellos) == 1:
            self.inbox.last_id = max(self.inbox.last_id, hello.get("last_message_id") or 0)
        # Sends from now on go straight out; those queued before are in this snapshot.
        self._ws = ws
        queued = list(self._pending.values())
        await ws.send(json.dumps({"type": "sync", "after": self.inbox.cursor()}))
        for frame in queued:
            await ws.send(json.dumps(frame))
        if len(self.hellos) > 1:
            self.resent += len(queued)

    def _on_frame(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "message":
            if self.inbox.add(frame):
                self._watch_gaps()
        elif kind == "ack":
            self._pending.pop(frame["client_id"], None)
            self.acks[frame["client_id"]] = frame
            self.inbox.note(frame["conversation"], frame["seq"], frame["id"])
            self._watch_gaps()
        elif kind == "error":
            client_id = frame.get("client_id")
            if frame.get("code") == "rate_limited":  # not refused, only too early
                self._later(self.retry_after, lambda: self._retry(client_id))
            elif client_id in self._pending:
                self.rejected[client_id] = frame
                del self._pending[client_id]
            else:
                self.errors.append(frame)

    async def _retry(self, client_id: str | None) -> None:
        """A limited send goes again unless acked meanwhile; a limited frame without a
        client_id may have been a sync, and one sync too many costs nothing."""
        if client_id is None:
            await self._sync()
        elif client_id in self._pending:
            await self._transmit(self._pending[client_id])

    async def _sync(self) -> None:
        await self._transmit({"type": "sync", "after": self.inbox.cursor()})

    async def _transmit(self, frame: Frame) -> None:
        ws = self._ws
        if ws is None:
            return  # a send goes after the next hello, and a sync comes with it
        try:
            await ws.send(json.dumps(frame))
        except websockets.ConnectionClosed:
            pass  # the run loop reconnects and makes up for it

    # --- holes --------------------------------------------------------------------------------
    def _watch_gaps(self) -> None:
        """A seq missing between two seen ones is usually just late; one still missing
        after ``gap_wait`` (its publication died with a worker) is fetched by a sync."""
        if self._gap_task is None and self.inbox.has_holes():
            self._gap_task = self._later(self.gap_wait, self._fill_gaps)

    async def _fill_gaps(self) -> None:
        self._gap_task = None
        if self.inbox.has_holes():
            await self._sync()

    def _later(self, delay: float, action: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        async def run() -> None:
            await asyncio.sleep(delay)
            await action()

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task
