"""A worker's socket sends, stored in batches with one commit each.

Each ``send`` frame joins the worker's queue (``core.batching``) and waits for its result.
While one batch is being written (``service.message_send_many``: its checks share their queries, its writes
are a handful of statements, one commit), the next gathers; a lone send is written at
once. A busy worker so writes many messages per commit instead of one commit and a
dozen queries per message, and a quiet one adds no delay.
"""

from __future__ import annotations

import asyncio
import logging

from django.db import InterfaceError, OperationalError

from core.batching import Batcher
from core.db import db

from .. import metrics
from .checks import SendRequest, SendResult
from .service import message_send_many
from .store import send_failure

# More would make the first sender of a batch wait for the last one's checks.
MAX_BATCH = 64

logger = logging.getLogger(__name__)


class SendQueue:
    """One per worker process (and event loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.batcher: Batcher[SendRequest, SendResult] = Batcher(
            self._write, loop=loop, max_size=MAX_BATCH, name="switchboard-sends"
        )

    async def send(self, request: SendRequest) -> SendResult:
        """The request's result once committed, or its ApplicationError raised."""
        return await self.batcher.submit(request)

    async def _write(self, requests: list[SendRequest]) -> list[SendResult | Exception]:
        metrics.SEND_BATCH.observe(len(requests))
        return await self._outcomes(requests)

    async def _outcomes(self, requests: list[SendRequest]) -> list[SendResult | Exception]:
        try:
            return await db(message_send_many)(requests)
        except Exception as error:
            if len(requests) == 1:
                return [send_failure(error)]
            # One send must never fail its neighbours: whatever went wrong, each is tried
            # alone, so that only the guilty fail.
            logger.warning("a batch of %d sends failed; trying each alone", len(requests), exc_info=True)
            outcomes: list[SendResult | Exception] = []
            for request in requests:
                (outcome,) = await self._outcomes([request])
                outcomes.append(outcome)
                if isinstance(outcome, OperationalError | InterfaceError):
                    # The database itself is away: the rest would only wait to fail too.
                    outcomes += [outcome] * (len(requests) - len(outcomes))
                    break
            return outcomes


_queue: SendQueue | None = None


def get_send_queue() -> SendQueue:
    """This worker's send queue, on the running event loop."""
    global _queue
    loop = asyncio.get_running_loop()
    if _queue is None or _queue.loop is not loop:
        _queue = SendQueue(loop)
    return _queue

