"""Every frame the server sends has the shape messaging.frames defines (docs/protocol.md).

The test clients check each frame they receive (tests/conftest.py, realclients.py); here
one session makes the server send every frame type there is, and the shapes refuse what
they should."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import TestCase

from messaging.frames import SHAPES, check_frame
from messaging.realtime import publish_app_event_on_commit

@pytest.mark.django_db(transaction=True)
async def test_a_session_that_meets_every_frame_type(demo, connect):
    alice = await connect(demo["alice"], path="/ws/?presence=subscribe")
    bob = await connect(demo["bob"])  # a v1 connection: hears its contacts' presence
    seen = {"hello"}

    async def expect(client, kind):
        frame = await client.recv_type(kind)  # checked against its shape on the way
        seen.add(frame["type"])
        return frame

    await alice.send({"type": "presence_subscribe", "users": [demo["bob"].id]})
    await expect(alice, "presence_subscribed")
    await expect(alice, "presence")
    client_id = str(uuid.uuid4())
    await alice.send({"type": "send", "client_id": client_id, "to": demo["bob"].id, "body": {"text": "hi"}})
    ack = await expect(alice, "ack")
    await expect(bob, "message")
    await bob.send({"type": "read", "conversation": ack["conversation"], "seq": ack["seq"]})
    await expect(alice, "receipt")
    await bob.send({"type": "typing", "conversation": ack["conversation"]})
    await expect(alice, "typing")
    await bob.send({"type": "signal", "to": demo["alice"].id, "data": {"kind": "offer"}})
    await expect(alice, "signal")
    await alice.send({"type": "ping"})
    await expect(alice, "pong")
    await alice.send({"type": "nonsense"})
    await expect(alice, "error")

    def edit_and_tell():
        from messaging.services import conversation_settings_set, message_edit

        with TestCase.captureOnCommitCallbacks(execute=True):
            message_edit(user=demo["alice"], message_id=ack["id"], body={"text": "hi there"})
            publish_app_event_on_commit([demo["bob"].id], app="poll", data={"poll": 1, "state": "open"})
            conversation_settings_set(user=demo["bob"], conversation_id=ack["conversation"], pinned=True)

    await database_sync_to_async(edit_and_tell)()
    await expect(bob, "message_update")
    await expect(bob, "app_event")
    await expect(bob, "conversation_update")
    await alice.close()
    await expect(bob, "presence")  # alice went offline
    await bob.close()
    assert seen == set(SHAPES)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "id": 1},  # fields missing
        {"type": "pong", "extra": 1},  # a field no client was told of
        {"type": "ack", "client_id": "c", "id": "1", "conversation": 1, "seq": 1, "created_at": "t"},  # id a string
        {"type": "receipt", "conversation": 1, "user": True, "seq": 1},  # a bool is not an id
        {"type": "presence", "user": 1, "status": "busy"},
        {"type": "hello", "user": {"id": 1}, "server": "w", "last_message_id": 0},
        {"type": "whatever"},
        ["not", "an", "object"],
    ],
)
def test_shapes_refuse_what_no_client_was_told_of(frame):
    with pytest.raises(ValueError):
        check_frame(frame)
