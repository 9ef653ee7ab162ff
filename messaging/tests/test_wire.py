"""Events between workers on Redis: sent in batches, taken many at a time (the real layer)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer

from messaging.realtime import wire

# The database is not used, but the session that runs these alone must still set it up.
pytestmark = [pytest.mark.services, pytest.mark.django_db]


async def listener(layer, group: str, prefix: str = "workers") -> wire.Inbox:
    channel = await layer.new_channel(prefix=prefix)
    await layer.group_add(group, channel)
    return wire.Inbox(layer, channel)


async def test_events_that_gather_go_out_as_one_batch_and_arrive_in_order_all_at_once(monkeypatch):
    layer = get_channel_layer()
    assert wire.on_redis(layer)
    group = f"wire-{uuid.uuid4().hex[:8]}"
    inbox = await listener(layer, group)
    outbox = wire.Outbox(layer, group, asyncio.get_running_loop())
    batches = []
    send = wire.Outbox.send

    async def counting(self, messages):
        batches.append(len(messages))
        await send(self, messages)

    monkeypatch.setattr(wire.Outbox, "send", counting)
    await asyncio.gather(*(outbox.put({"type": "fanout", "n": n}) for n in range(50)))
    await outbox.put({"type": "fanout", "n": 50})

    assert batches == [50, 1]
    assert [message["n"] for message in await inbox.take()] == list(range(51))


async def test_a_full_listener_channel_keeps_its_capacity_and_leaves_out_the_rest():
    layer = get_channel_layer()
    group = f"wire-{uuid.uuid4().hex[:8]}"
    inbox = await listener(layer, group, prefix="wiretest")  # the layer's default capacity
    capacity = layer.get_capacity(inbox.channel)
    outbox = wire.Outbox(layer, group, asyncio.get_running_loop())
    await asyncio.gather(*(outbox.put({"type": "fanout", "n": n}) for n in range(capacity + 5)))

    assert await layer.connection(inbox.index).zcard(inbox.key) == capacity
    taken = await inbox.take()
    assert [message["n"] for message in taken] == list(range(wire.MAX_BATCH))
