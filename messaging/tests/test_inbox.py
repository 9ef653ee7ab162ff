"""The inbox: GET /api/v1/conversations/ as one list of everything I am in, with previews,
my unread counts and my own mute and pin settings (docs/api.md)."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from django.utils import translation

from messaging.models import Conversation, ConversationMember

pytestmark = pytest.mark.django_db(transaction=True)



def send(client, **payload):
    payload.setdefault("client_id", str(uuid.uuid4()))
    return client.post("/api/v1/messages/", payload, format="json")


def inbox(client) -> list[dict]:
    response = client.get("/api/v1/conversations/")
    assert response.status_code == 200
    return response.json()


def test_every_conversation_i_am_in_is_listed_by_last_activity_with_a_plain_preview(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    to_lead = send(alice, to=demo["dev_lead"].id, body={"text": "Quote for **Q3**:\n\n- item one\n- item two"}).json()
    to_bob = send(bob, to=demo["alice"].id, body={"text": "lunch?"}).json()
    listed = inbox(alice)
    kinds = {c["kind"] for c in listed}
    assert {"direct", "department"} <= kinds  # direct chats are in the same list as groups
    assert [c["id"] for c in listed[:2]] == [to_bob["conversation"], to_lead["conversation"]]
    last = listed[1]["last_message"]
    assert last["preview"] == "Quote for Q3: item one item two"  # no Markdown, one line
    assert {"id", "seq", "sender", "app", "preview", "created"} <= set(last)
    assert last["created"] == last["created_at"] and last["sender"] == demo["alice"].id
    assert listed[0]["unread"] == 1 and listed[0]["muted"] is False and listed[0]["pinned"] is False


def test_previews_are_plain_and_in_the_readers_language(demo, api_for):
    alice = api_for(demo["alice"])
    sent = send(alice, to=demo["bob"].id, body={"text": "x"}).json()
    alice.post(f"/api/v1/messages/{sent['id']}/recall/")
    bob = api_for(demo["bob"])
    bob.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    with translation.override("zh-hans"):
        listed = bob.get("/api/v1/conversations/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    direct = next(c for c in listed if c["id"] == sent["conversation"])
    assert direct["last_message"]["preview"] == "该消息已撤回"


def test_pinned_conversations_come_first_and_mute_is_mine_alone(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    old = send(alice, to=demo["dev_lead"].id, body={"text": "old"}).json()["conversation"]
    new = send(alice, to=demo["bob"].id, body={"text": "new"}).json()["conversation"]
    assert inbox(alice)[0]["id"] == new

    response = alice.post(f"/api/v1/conversations/{old}/pin/", {"pinned": True}, format="json")
    assert response.status_code == 200 and response.json() == {"conversation": old, "muted": False, "pinned": True}
    listed = inbox(alice)
    assert listed[0]["id"] == old and listed[0]["pinned"] is True

    assert alice.post(f"/api/v1/conversations/{new}/mute/", {"muted": True}, format="json").json()["muted"] is True
    assert next(c for c in inbox(alice) if c["id"] == new)["muted"] is True
    assert next(c for c in inbox(bob) if c["id"] == new)["muted"] is False  # bob's stays his own

    alice.post(f"/api/v1/conversations/{old}/pin/", {"pinned": False}, format="json")
    assert inbox(alice)[0]["id"] == new


def test_mute_and_pin_refuse_bad_input_and_strangers_and_change_nothing(demo, api_for):
    alice, carol = api_for(demo["alice"]), api_for(demo["carol"])
    conversation = send(alice, to=demo["bob"].id, body={"text": "hi"}).json()["conversation"]
    for path, body in [("mute", {"muted": "maybe"}), ("mute", {}), ("pin", {"pinned": [1]})]:
        response = alice.post(f"/api/v1/conversations/{conversation}/{path}/", body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid", (path, body)
    # Someone who is not a member is told it does not exist.
    response = carol.post(f"/api/v1/conversations/{conversation}/mute/", {"muted": True}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not ConversationMember.objects.filter(conversation_id=conversation, muted=True).exists()
    assert not ConversationMember.objects.filter(pinned_at__isnull=False).exists()


def test_the_inbox_takes_a_fixed_number_of_queries(demo, api_for, django_assert_max_num_queries):
    alice = api_for(demo["alice"])
    for name in ("bob", "dev_lead"):
        send(alice, to=demo[name].id, body={"text": f"hi {name}"})
    with django_assert_max_num_queries(8):
        assert len(inbox(alice)) >= 3


@pytest.mark.asyncio
async def test_my_other_devices_follow_a_mute_or_pin_live(demo, connect, api_for):
    phone, laptop = await connect(demo["alice"]), await connect(demo["alice"])
    bob = await connect(demo["bob"])
    alice_api = await database_sync_to_async(api_for)(demo["alice"])
    conversation = await database_sync_to_async(Conversation.objects.get)(department__code="dev")
    response = await database_sync_to_async(alice_api.post)(
        f"/api/v1/conversations/{conversation.pk}/mute/", {"muted": True}, format="json"
    )
    assert response.status_code == 200
    expected = {"type": "conversation_update", "conversation": conversation.pk, "muted": True, "pinned": False}
    assert await phone.recv_type("conversation_update") == expected
    assert await laptop.recv_type("conversation_update") == expected
    assert await bob.no("conversation_update")
    for client in (phone, laptop, bob):
        await client.close()
