"""Two real Daphne workers sharing PostgreSQL and Redis: clients on each can talk."""

from __future__ import annotations

import uuid

import pytest

from imsite.testing.servers import servers

from .realclients import WsClient, token_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def open_client(server, user) -> tuple[WsClient, dict]:
    client = await WsClient.open(server.ws_url, await token_for(user))
    return client, client.hello


async def test_two_workers_share_messages_receipts_and_presence(demo, services_env, tmp_path):
    with servers(["worker-a", "worker-b"], services_env, tmp_path) as (a, b):
        alice, alice_hello = await open_client(a, demo["alice"])
        bob, bob_hello = await open_client(b, demo["bob"])
        assert (alice_hello["server"], bob_hello["server"]) == ("worker-a", "worker-b")

        # Presence crosses: alice (on A) hears that bob (on B) came online.
        assert (await alice.recv_type("presence"))["user"] == demo["bob"].id

        client_id = str(uuid.uuid4())
        await alice.send({"type": "send", "client_id": client_id, "to": demo["bob"].id, "body": {"text": "across"}})
        ack = await alice.recv_type("ack")
        message = await bob.recv_type("message")
        assert message["id"] == ack["id"] and message["body"]["text"] == "across"

        await bob.send({"type": "read", "conversation": ack["conversation"], "seq": ack["seq"]})
        receipt = await alice.recv_type("receipt")
        assert (receipt["user"], receipt["seq"]) == (demo["bob"].id, ack["seq"])

        await bob.send({"type": "send", "client_id": str(uuid.uuid4()), "conversation": ack["conversation"], "body": {"text": "back"}})
        assert (await alice.recv_type("message"))["body"]["text"] == "back"

        await bob.ws.close()
        offline = await alice.recv_type("presence")
        assert (offline["user"], offline["status"]) == (demo["bob"].id, "offline")
        await alice.ws.close()
