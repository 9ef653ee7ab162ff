"""Turns for ``sync`` replays, so that replaying history never starves live traffic.

A replay reads a batch of messages and sends it, then gives the event loop back. Each
batch is one turn: a worker runs at most :data:`REPLAYS_AT_ONCE` turns at a time, of any
users, and one user at most one (however many sockets that user asks on). Live
deliveries, acks and other users' turns come in between, so a person replaying a large
history on ten sockets slows their own replays, not everybody's chat. A client that does
not read fast enough waits outside its turn, not holding one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Turns in flight on one worker at once: each holds one thread of the database pool at
# most, so most of the pool stays free for sends.
REPLAYS_AT_ONCE = 2


class ReplayTurns:
    """One per worker process (and event loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.slots = asyncio.Semaphore(REPLAYS_AT_ONCE)
        # user id -> that user's lock and how many of their replays use it now
        self.users: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[None]:
        # The user's own lock first, so that one person's sockets wait in their own line
        # and never hold more than one of the worker's slots.
        lock, users = self.users.setdefault(user_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock, self.slots:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self.users[user_id]


_turns: ReplayTurns | None = None


def get_replay_turns() -> ReplayTurns:
    """This worker's replay turns, on the running event loop."""
    global _turns
    loop = asyncio.get_running_loop()
    if _turns is None or _turns.loop is not loop:
        _turns = ReplayTurns(loop)
    return _turns
