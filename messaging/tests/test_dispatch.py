"""Fan-out once per worker, and no socket left open but deaf when the channel layer fails."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import pytest
import websockets
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from imsite.testing.servers import ServerProcess, servers
from messaging import metrics, send, services
from messaging.realtime import dispatch, wire
from messaging.realtime.publish import FANOUT, WORKERS_GROUP, event, publish_to_users_async

from .realclients import RedisServer, WsClient, bench_department, metric, token_for, wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]


def cid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def layer_sends(monkeypatch):
    """What this process put on the channel layer, recorded on the way (the outbox is the
    real one, on whichever layer the run uses; only its sends are watched)."""
    sent: list[tuple[str, dict]] = []
    send = wire.Outbox.send

    async def recording(outbox, messages):
        sent.extend((outbox.group, message) for message in messages)
        await send(outbox, messages)

    monkeypatch.setattr(wire.Outbox, "send", recording)
    return sent


# --- one worker, in this process -------------------------------------------------------------


async def test_a_department_message_is_one_layer_send_and_reaches_each_connection_once(connect, layer_sends):
    people, conversation = await bench_department(12)
    users = [user for user, _token in people]
    sender = await connect(users[0])
    sender_phone = await connect(users[0])
    first_phone = await connect(users[1])
    others = [await connect(user) for user in users[1:]]
    receivers = [sender_phone, first_phone, *others]
    for client in [sender, *receivers]:
        await client.drain()  # the presence of everyone who came online
    layer_sends.clear()

    await sender.send({"type": "send", "client_id": cid(), "conversation": conversation, "body": {"text": "all"}})
    ack = await sender.recv_type("ack")
    for client in receivers:
        assert (await client.recv_type("message"))["id"] == ack["id"]

    # Nobody gets it twice, and the sending connection has its ack instead.
    assert all(await asyncio.gather(*(client.no("message") for client in [sender, *receivers])))
    published = [(group, m) for group, m in layer_sends if m["event"]["type"] == "message.new"]
    assert len(published) == 1
    group, message = published[0]
    assert (group, message["type"]) == (WORKERS_GROUP, FANOUT)
    assert sorted(message["users"]) == sorted(user.pk for user in users)
    for client in [sender, *receivers]:
        await client.close()


async def test_a_worker_that_cannot_listen_refuses_sockets_until_it_can(demo, connect, monkeypatch):
    layer = get_channel_layer()

    async def unreachable(group, channel):
        raise ConnectionError("the channel layer is away")

    with monkeypatch.context() as patch:
        patch.setattr(layer, "group_add", unreachable)
        refused = await connect(demo["alice"], expect_hello=False)
        # Accepted only to say why: "try again later", and no hello.
        close = await refused.ws.receive_output(timeout=10)
        assert (close["type"], close["code"]) == ("websocket.close", dispatch.CLOSE_TRY_AGAIN_LATER)

    async with asyncio.timeout(20):
        while True:
            alice = await connect(demo["alice"], expect_hello=False)
            first = await alice.ws.receive_output(timeout=10)
            if first["type"] == "websocket.send":
                break
            assert first["code"] == dispatch.CLOSE_TRY_AGAIN_LATER
            await asyncio.sleep(0.2)
    bob = await connect(demo["bob"])
    await bob.send({"type": "send", "client_id": cid(), "to": demo["alice"].id, "body": {"text": "heard"}})
    assert (await alice.recv_type("message"))["body"]["text"] == "heard"
    await alice.close()
    await bob.close()


async def test_a_connection_hears_each_presence_change_once(demo, connect):
    alice = await connect(demo["alice"])
    bob = await connect(demo["bob"])
    assert (await alice.recv_type("presence"))["status"] == "online"

    def bob_is(status: str) -> dict:
        frame = {"type": "presence", "user": demo["bob"].id, "status": status}
        return event("presence.changed", frame, user=demo["bob"].id, status=status)

    # The same news again (as when the snapshot after hello and a live event cross): not repeated.
    await publish_to_users_async([demo["alice"].id], bob_is("online"))
    assert await alice.no("presence")
    await publish_to_users_async([demo["alice"].id], bob_is("away"))
    assert (await alice.recv_type("presence"))["status"] == "away"
    await alice.close()
    await bob.close()


@pytest.mark.services
async def test_when_redis_forgets_the_worker_every_socket_is_closed_and_it_listens_again(demo, connect):
    import redis

    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    resets = metrics.LAYER_RESETS._value.get()
    for url in settings.REDIS_URLS:  # what a restart of Redis without a disk does
        redis.Redis.from_url(url).flushdb()
    for client in (alice, bob):
        close = await client.ws.receive_output(timeout=settings.LAYER_CHECK_SECONDS + 10)
        while close["type"] != "websocket.close":
            close = await client.ws.receive_output(timeout=settings.LAYER_CHECK_SECONDS + 10)
        assert close["code"] == dispatch.CLOSE_SERVICE_RESTART
        await client.close()
    assert metrics.LAYER_RESETS._value.get() == resets + 1

    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    await alice.send({"type": "send", "client_id": cid(), "to": demo["bob"].id, "body": {"text": "again"}})
    assert (await bob.recv_type("message"))["body"]["text"] == "again"
    await alice.close()
    await bob.close()


# --- events that never reached a listener ---------------------------------------------------------


def test_numbers_out_of_order_while_still_being_sent_are_no_loss():
    gaps = dispatch.Gaps()
    gaps.see("a", 7, 7, now=0)  # it joined at 7
    gaps.see("a", 8, 8, now=0)
    gaps.see("a", 10, 9, now=0)  # 9 was still being sent when 10 left
    gaps.see("a", 9, 9, now=0)
    gaps.see("a", 11, 11, now=0)
    gaps.see("b", 1, 1, now=0)
    gaps.expire(now=3600)
    assert gaps.take() == (0, 0)
    assert gaps.expected == {"a": 12, "b": 2}
    assert gaps.ahead == {"a": set(), "b": set()}


def test_a_settled_number_not_heard_within_the_grace_period_is_lost():
    gaps = dispatch.Gaps()
    gaps.see("a", 1, 1, now=0)
    gaps.see("a", 4, 3, now=0)  # 2 had reached Redis before 4 left; 3 may still come
    gaps.expire(now=dispatch.MISSING_GRACE_SECONDS - 1)
    assert gaps.take() == (0, 0)  # missing, not yet lost
    gaps.see("a", 3, 3, now=1)
    gaps.see("a", 5, 5, now=1)
    gaps.expire(now=dispatch.MISSING_GRACE_SECONDS)
    assert gaps.take() == (1, 0)
    assert gaps.missing["a"] == {}


def test_an_event_that_arrives_after_a_later_one_is_late_not_lost():
    # channels-redis orders a listener's queue by the sender's clock, not by arrival.
    gaps = dispatch.Gaps()
    gaps.see("a", 1, 1, now=0)
    gaps.see("a", 3, 3, now=0)  # 2 had reached Redis before 3 left
    gaps.see("a", 2, 2, now=5)
    gaps.see("a", 4, 4, now=5)
    gaps.expire(now=3600)
    assert gaps.take() == (0, 1)
    assert gaps.expected == {"a": 5}


def test_a_long_silence_of_the_listener_is_counted_at_once_without_remembering_each_number():
    gaps = dispatch.Gaps()
    gaps.see("a", 1, 1, now=0)
    gaps.see("a", 1_000_002, 1_000_002, now=0)
    assert gaps.take() == (1_000_000, 0)
    assert gaps.missing["a"] == {}
    assert gaps.ahead["a"] == set()


def test_publishers_not_heard_from_for_long_are_forgotten():
    gaps = dispatch.Gaps()
    gaps.see("gone", 1, 1, now=0)
    gaps.see("here", 1, 1, now=dispatch.PUBLISHER_FORGET_SECONDS)
    gaps.forget(now=dispatch.PUBLISHER_FORGET_SECONDS + 1)
    assert set(gaps.expected) == {"here"}


async def test_each_event_carries_its_publishers_next_number(layer_sends):
    await publish_to_users_async([1], event("typing.new", {"type": "typing"}))
    await publish_to_users_async([2], event("typing.new", {"type": "typing"}))
    (_, first), (_, second) = layer_sends
    assert first["publisher"] == second["publisher"]
    assert second["n"] == first["n"] + 1
    assert (first["settled"], second["settled"]) == (first["n"], second["n"])  # one at a time


# --- real worker processes -----------------------------------------------------------------------


@pytest.mark.services
async def test_members_spread_over_two_workers_each_get_a_department_message_once(services_env, tmp_path):
    people, conversation = await bench_department(10)
    with servers(["worker-a", "worker-b"], services_env, tmp_path) as (a, b):
        sender_token, rest = people[0][1], people[1:]
        origin = await WsClient.open(a.ws_url, sender_token)
        sender_elsewhere = await WsClient.open(b.ws_url, sender_token)
        receivers = [sender_elsewhere] + [
            await WsClient.open((a, b)[n % 2].ws_url, token) for n, (_user, token) in enumerate(rest)
        ]
        assert {client.hello["server"] for client in receivers} == {"worker-a", "worker-b"}

        message = {"type": "send", "client_id": cid(), "conversation": conversation, "body": {"text": "hi all"}}
        await origin.send(message)
        ack = await origin.recv_type("ack")
        for client in receivers:
            assert (await client.recv_type("message"))["id"] == ack["id"]
        again = await asyncio.gather(*(client.frames_of("message") for client in [origin, *receivers]))
        assert again == [[]] * (len(receivers) + 1)
        for client in [origin, *receivers]:
            await client.ws.close()


@pytest.mark.services
async def test_a_redis_restart_closes_every_socket_and_sync_brings_what_was_stored_meanwhile(
    demo, services_env, tmp_path
):
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    env = {
        **services_env,
        "REDIS_URL": redis_server.url,
        "CELERY_BROKER_URL": redis_server.url,
        "LAYER_CHECK_SECONDS": "1",
    }
    worker = ServerProcess("worker-r", env, tmp_path)
    try:
        worker.wait_ready()
        alice_token, bob_token = await token_for(demo["alice"]), await token_for(demo["bob"])
        clients = [
            await WsClient.open(worker.ws_url, alice_token),
            await WsClient.open(worker.ws_url, bob_token),
            await WsClient.open(worker.ws_url, bob_token),
        ]
        last_id = clients[1].hello["last_message_id"]
        for client in clients:  # a pong: each connection is fully open
            await client.send({"type": "ping"})
            await client.recv_type("pong")

        redis_server.kill()
        # No socket stays open, deaf: the server closes each one, saying "reconnect".
        codes = await asyncio.gather(*(client.closed_by_server() for client in clients))
        assert codes == [dispatch.CLOSE_SERVICE_RESTART] * 3
        assert metric(worker, "switchboard_layer_resets_total") >= 1

        # Acknowledged while Redis is away: it is in the database.
        stored = await database_sync_to_async(send.message_send)(
            sender=demo["alice"],
            client_id=cid(),
            conversation_id=None,
            to_user_id=demo["bob"].id,
            app="chat",
            body={"text": "while Redis was away"},
        )
        # Meanwhile a new socket would be deaf, so it is told to come back later.
        early = await websockets.connect(worker.ws_url, additional_headers={"Authorization": f"Bearer {bob_token}"})
        assert await WsClient(early, {}).closed_by_server() == dispatch.CLOSE_TRY_AGAIN_LATER

        redis_server.start()
        bob = None
        async with asyncio.timeout(30):
            while bob is None:
                try:
                    bob = await WsClient.open(worker.ws_url, bob_token)
                except Exception:
                    await asyncio.sleep(0.3)
        await bob.send({"type": "sync", "after": last_id})
        replayed = await bob.recv_type("message")
        assert (replayed["id"], replayed["body"]["text"]) == (stored.message.pk, "while Redis was away")

        # The worker is listening again: live delivery works.
        alice = await WsClient.open(worker.ws_url, alice_token)
        await alice.send({"type": "send", "client_id": cid(), "to": demo["bob"].id, "body": {"text": "live again"}})
        assert (await bob.recv_type("message"))["body"]["text"] == "live again"
        await wait_for(lambda: metric(worker, "switchboard_connections") == 2, 10, "two sockets open")
        await alice.ws.close()
        await bob.ws.close()
    finally:
        worker.stop()
        redis_server.kill()


@pytest.mark.services
async def test_a_worker_whose_listener_overflowed_counts_what_it_missed_and_sync_brings_the_rest(
    demo, services_env, tmp_path
):
    """channels-redis drops, without a word, what goes past a channel's capacity. A worker
    that fell that far behind (here: stopped) notices the gap in another worker's numbers
    and counts it; sync brings every message."""
    # The capacity is the cluster's: a sender leaves out what a full channel cannot take.
    env = {**services_env, "CHANNEL_LISTENER_CAPACITY": "10"}
    behind = ServerProcess("worker-behind", env, tmp_path)
    ahead = ServerProcess("worker-ahead", env, tmp_path)
    try:
        behind.wait_ready()
        ahead.wait_ready()
        alice_token, bob_token = await token_for(demo["alice"]), await token_for(demo["bob"])
        bob = await WsClient.open(behind.ws_url, bob_token)
        alice = await WsClient.open(ahead.ws_url, alice_token)
        last_id = bob.hello["last_message_id"]
        for client in (bob, alice):
            await client.send({"type": "ping"})
            await client.recv_type("pong")

        os.kill(behind.pid, signal.SIGSTOP)
        try:
            for n in range(30):  # three times what the stopped worker's listener holds
                await alice.send({"type": "send", "client_id": cid(), "to": demo["bob"].id, "body": {"text": f"m{n}"}})
                await alice.recv_type("ack")
        finally:
            os.kill(behind.pid, signal.SIGCONT)
        await alice.send({"type": "send", "client_id": cid(), "to": demo["bob"].id, "body": {"text": "after"}})
        await alice.recv_type("ack")

        live = [await bob.recv_type("message")]  # what the stopped listener kept
        await wait_for(
            lambda: metric(behind, 'switchboard_dropped_events_total{kind="listener_overflow"}') >= 10,
            dispatch.MISSING_GRACE_SECONDS + 20,
            "the stopped worker counted what it missed",
        )
        assert metric(ahead, 'switchboard_dropped_events_total{kind="listener_overflow"}') == 0

        live += await bob.frames_of("message", quiet=1.0)
        assert len(live) < 31
        await bob.send({"type": "sync", "after": last_id})
        synced = await bob.frames_of("message", quiet=1.0)
        texts = [frame["body"]["text"] for frame in sorted(live + synced, key=lambda f: f["seq"])]
        assert texts == [f"m{n}" for n in range(30)] + ["after"]
        await alice.ws.close()
        await bob.ws.close()
    finally:
        behind.stop()
        ahead.stop()
