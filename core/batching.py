"""Gather while busy: what arrives while one batch is being handled is the next batch.

A lone item is handled at once, so a quiet process adds no delay; a busy one handles many
items per round trip (one commit for many sends, one script call for many events).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class Batcher(Generic[Item, Outcome]):
    """One per event loop and purpose.

    ``handle(items)`` answers each item of a batch, in order, with its outcome or the
    exception that failed it; it runs for one batch at a time. A batch takes whole items,
    at least one, up to ``max_size`` as ``size`` counts them.
    """

    def __init__(
        self,
        handle: Callable[[list[Item]], Awaitable[list[Outcome | BaseException]]],
        *,
        loop: asyncio.AbstractEventLoop,
        max_size: int,
        name: str,
        size: Callable[[Item], int] = lambda item: 1,
    ) -> None:
        self.handle, self.loop, self.max_size, self.name, self.size = handle, loop, max_size, name, size
        self.pending: list[tuple[Item, asyncio.Future]] = []
        self.busy = False

    async def submit(self, item: Item) -> Outcome:
        """The item's outcome once its batch is handled, or its exception raised."""
        future = self.loop.create_future()
        self.pending.append((item, future))
        if not self.busy:
            self.busy = True
            self.loop.create_task(self._run(), name=self.name)
        return await future

    async def _run(self) -> None:
        try:
            while self.pending:
                batch = self._take()
                outcomes = await self.handle([item for item, _future in batch])
                for (_item, future), outcome in zip(batch, outcomes):
                    if future.done():  # its caller went away meanwhile
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self.busy = False

    def _take(self) -> list[tuple[Item, asyncio.Future]]:
        count = taken = 0
        while taken < len(self.pending):
            size = self.size(self.pending[taken][0])
            if taken and count + size > self.max_size:
                break
            count += size
            taken += 1
        batch, self.pending = self.pending[:taken], self.pending[taken:]
        return batch
