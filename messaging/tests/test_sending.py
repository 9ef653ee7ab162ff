"""Socket sends stored in batches: each answered as alone, fewer commits when busy."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from messaging import metrics

from .realclients import bench_department

pytestmark = pytest.mark.django_db(transaction=True)


def batches() -> tuple[float, float]:
    """How many batches were written, and how many sends they held."""
    samples = {s.name: s.value for m in metrics.SEND_BATCH.collect() for s in m.samples}
    return samples["switchboard_send_batch_size_count"], samples["switchboard_send_batch_size_sum"]


async def test_sends_that_arrive_together_are_stored_together_and_each_is_acked(connect):
    people, conversation = await bench_department(12)
    clients = [await connect(user) for user, _token in people]
    other_device = await connect(people[0][0])
    for client in [*clients, other_device]:
        await client.drain()
    count_before, sends_before = batches()

    frames = [
        {"type": "send", "client_id": str(uuid.uuid4()), "conversation": conversation, "body": {"text": f"from {n}"}}
        for n in range(len(clients))
    ]
    frames[5]["body"] = "not an object"  # refused, alone
    await asyncio.gather(*(client.send(frame) for client, frame in zip(clients, frames)))
    answers = [await client.recv_type("error" if n == 5 else "ack") for n, client in enumerate(clients)]

    assert answers[5]["code"] == "invalid" and answers[5]["client_id"] == frames[5]["client_id"]
    acks = [a for n, a in enumerate(answers) if n != 5]
    assert [a["client_id"] for a in acks] == [f["client_id"] for n, f in enumerate(frames) if n != 5]
    assert sorted(a["seq"] for a in acks) == list(range(1, len(clients)))
    count, sends = batches()
    assert sends - sends_before == len(clients)
    assert count - count_before < len(clients)  # some were written together
    # A member's other device hears every stored message once.
    heard = [await other_device.recv_type("message") for _ in acks]
    assert sorted(m["seq"] for m in heard) == sorted(a["seq"] for a in acks)
    assert await other_device.no("message")
    for client in [*clients, other_device]:
        await client.close()


async def test_a_send_that_cannot_be_stored_fails_alone_and_every_socket_stays_open(connect):
    """A lone UTF-16 surrogate in one send of a shared batch: that sender gets ``invalid``,
    everyone else their ack, and no socket is closed."""
    people, conversation = await bench_department(12)
    clients = [await connect(user) for user, _token in people]
    for client in clients:
        await client.drain()
    frames = [
        {"type": "send", "client_id": str(uuid.uuid4()), "conversation": conversation, "body": {"text": f"from {n}"}}
        for n in range(len(clients))
    ]
    frames[3]["body"] = {"text": "broken \ud800 text"}
    frames[7]["client_id"] = "id-\udc00"
    # json.dumps writes the surrogates as \ud800 escapes, as a hostile client would.
    await asyncio.gather(*(client.send(frame) for client, frame in zip(clients, frames)))
    answers = [await client.recv_type("error" if n in (3, 7) else "ack") for n, client in enumerate(clients)]

    assert answers[3]["code"] == "invalid" and answers[3]["client_id"] == frames[3]["client_id"]
    assert answers[7]["code"] == "invalid"
    assert sorted(a["seq"] for n, a in enumerate(answers) if n not in (3, 7)) == list(range(1, len(clients) - 1))
    for client in clients:
        await client.send({"type": "ping"})
        assert (await client.recv_type("pong")) == {"type": "pong"}
        await client.close()
