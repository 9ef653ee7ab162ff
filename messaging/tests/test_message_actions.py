"""Replies, forwards, reactions, edits and recalls: each checked on the server like a
send, each seen live by every member (docs/protocol.md, "Message actions")."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from messaging.models import Conversation, Message, MessageReaction

pytestmark = pytest.mark.django_db(transaction=True)


def send(client, expect=(200, 201), **payload):
    payload.setdefault("client_id", str(uuid.uuid4()))
    response = client.post("/api/v1/messages/", payload, format="json")
    assert response.status_code in expect, response.content
    return response.json()


def history(client, conversation_id) -> list[dict]:
    return client.get(f"/api/v1/conversations/{conversation_id}/messages/").json()["results"]


def react(client, message_id, emoji="👍", on=True):
    return client.post(f"/api/v1/messages/{message_id}/react/", {"emoji": emoji, "on": on}, format="json")


def dev() -> Conversation:
    return Conversation.objects.get(department__code="dev")


# --- replies ---------------------------------------------------------------------------------


def test_a_reply_carries_a_short_plain_quote_of_what_it_answers(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    original = send(alice, to=demo["bob"].id, body={"text": "Lunch at **noon**? " + "x" * 200})
    reply = send(bob, to=demo["alice"].id, body={"text": "Yes"}, reply_to=original["id"])
    assert Message.objects.get(pk=reply["id"]).reply_to_id == original["id"]
    (_first, answer) = history(alice, original["conversation"])
    quote = answer["reply_to"]
    assert {k: quote[k] for k in ("id", "seq", "sender", "app", "recalled")} == {
        "id": original["id"], "seq": 1, "sender": demo["alice"].id, "app": "chat", "recalled": False,
    }  # fmt: skip
    # The text a reader sees, without its Markdown, cut short.
    assert quote["quote"].startswith("Lunch at noon? xxx") and len(quote["quote"]) == 100
    assert quote["quote"].endswith("…")
    assert _first["reply_to"] is None and _first["forwarded"] is False


def test_a_reply_must_answer_a_message_of_its_own_conversation(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    elsewhere = send(alice, conversation=dev().pk, body={"text": "in Development"})
    refused = alice.post(
        "/api/v1/messages/",
        {"client_id": "r1", "to": demo["bob"].id, "body": {"text": "re"}, "reply_to": elsewhere["id"]},
        format="json",
    )
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    missing = bob.post(
        "/api/v1/messages/",
        {"client_id": "r2", "to": demo["alice"].id, "body": {"text": "re"}, "reply_to": 10**9},
        format="json",
    )
    assert missing.status_code == 404
    bad = bob.post(
        "/api/v1/messages/",
        {"client_id": "r3", "to": demo["alice"].id, "body": {"text": "re"}, "reply_to": "one"},
        format="json",
    )
    assert bad.status_code == 400
    assert not Message.objects.filter(client_id__in=["r1", "r2", "r3"]).exists()


def test_a_recalled_message_cannot_be_answered_and_its_replies_lose_the_quote(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    original = send(alice, to=demo["bob"].id, body={"text": "secret plan"})
    reply = send(bob, to=demo["alice"].id, body={"text": "ok"}, reply_to=original["id"])
    assert alice.post(f"/api/v1/messages/{original['id']}/recall/").status_code == 200
    answered = [m for m in history(bob, original["conversation"]) if m["id"] == reply["id"]][0]
    assert answered["reply_to"]["recalled"] is True and answered["reply_to"]["quote"] == ""
    late = bob.post(
        "/api/v1/messages/",
        {"client_id": "late", "to": demo["alice"].id, "body": {"text": "?"}, "reply_to": original["id"]},
        format="json",
    )
    assert late.status_code == 409 and late.json()["code"] == "conflict"


@pytest.mark.asyncio
async def test_a_reply_frame_reaches_the_other_member_with_its_quote(demo, connect):
    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    await alice.send({"type": "send", "client_id": "q1", "to": demo["bob"].id, "body": {"text": "Question?"}})
    question = await alice.recv_type("ack")
    await bob.recv_type("message")
    await bob.send(
        {"type": "send", "client_id": "a1", "conversation": question["conversation"],
         "body": {"text": "Answer"}, "reply_to": question["id"]}
    )  # fmt: skip
    await bob.recv_type("ack")
    answer = await alice.recv_type("message")
    assert answer["reply_to"] == {
        "id": question["id"], "seq": question["seq"], "sender": demo["alice"].id, "app": "chat",
        "quote": "Question?", "recalled": False,
    }  # fmt: skip
    await bob.send({"type": "send", "client_id": "a2", "conversation": question["conversation"],
                    "body": {"text": "x"}, "reply_to": True})  # fmt: skip
    error = await bob.recv_type("error")
    assert error["code"] == "invalid" and error["client_id"] == "a2"
    await alice.close()
    await bob.close()


# --- forwards --------------------------------------------------------------------------------


def test_a_forward_copies_a_chat_message_marked_forwarded_and_mentions_no_one(demo, api_for):
    bob, alice = api_for(demo["bob"]), api_for(demo["alice"])
    original = send(bob, conversation=dev().pk, body={"text": "@alice the build is **green**"})
    target = send(alice, to=demo["bob"].id, forward=original["id"])
    stored = Message.objects.get(pk=target["id"])
    assert stored.forwarded is True and stored.app == "chat" and stored.mentions == []
    assert stored.body == Message.objects.get(pk=original["id"]).body
    assert stored.sender_id == demo["alice"].id and stored.conversation_id != original["conversation"]
    landed = history(alice, target["conversation"])[-1]
    assert landed["forwarded"] is True and landed["reply_to"] is None


def test_only_what_i_can_read_can_be_forwarded_and_only_chat(demo, api_for):
    bob, carol = api_for(demo["bob"]), api_for(demo["carol"])
    original = send(bob, conversation=dev().pk, body={"text": "internal"})
    # carol is not in Development: for her the message does not exist.
    stolen = carol.post(
        "/api/v1/messages/", {"client_id": "f1", "to": demo["bob"].id, "forward": original["id"]}, format="json"
    )
    assert stolen.status_code == 404 and stolen.json()["code"] == "not_found"
    both = bob.post(
        "/api/v1/messages/",
        {"client_id": "f2", "to": demo["alice"].id, "forward": original["id"], "body": {"text": "mine"}},
        format="json",
    )
    assert both.status_code == 400 and both.json()["code"] == "invalid"
    # An approval card stands only where its approval is: not forwardable.
    direct = send(bob, to=demo["alice"].id, body={"text": "hi"})
    card = Message.objects.create(
        conversation_id=direct["conversation"], seq=100, sender=demo["alice"], app="approval",
        body={"title": "Leave"}, client_id="card",
    )
    refused = bob.post(
        "/api/v1/messages/", {"client_id": "f3", "conversation": dev().pk, "forward": card.pk}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    assert not Message.objects.filter(client_id__in=["f1", "f2", "f3"]).exists()


# --- reactions -------------------------------------------------------------------------------


def test_reactions_are_counted_per_emoji_with_mine_marked(demo, api_for):
    bob, alice, lead = api_for(demo["bob"]), api_for(demo["alice"]), api_for(demo["dev_lead"])
    message = send(bob, conversation=dev().pk, body={"text": "Release today"})
    assert react(alice, message["id"]).json() == {"message": message["id"], "reactions": [{"emoji": "👍", "count": 1, "me": True}]}
    react(lead, message["id"])
    react(lead, message["id"], "🎉")
    react(lead, message["id"], "🎉")  # twice is once
    seen_by_alice = history(alice, dev().pk)[-1]["reactions"]
    assert seen_by_alice == [{"emoji": "👍", "count": 2, "me": True}, {"emoji": "🎉", "count": 1, "me": False}]
    assert history(bob, dev().pk)[-1]["reactions"] == [
        {"emoji": "👍", "count": 2, "me": False}, {"emoji": "🎉", "count": 1, "me": False},
    ]  # fmt: skip
    assert react(alice, message["id"], on=False).json()["reactions"] == [{"emoji": "👍", "count": 1, "me": False}, {"emoji": "🎉", "count": 1, "me": False}]
    assert MessageReaction.objects.count() == 2


def test_reactions_are_refused_outside_the_set_and_outside_my_conversations(demo, api_for):
    bob, carol = api_for(demo["bob"]), api_for(demo["carol"])
    message = send(bob, conversation=dev().pk, body={"text": "hi"})
    for emoji in ("🦄", "<b>", "", "👍👍"):
        response = react(bob, message["id"], emoji)
        assert response.status_code == 400 and response.json()["code"] == "invalid", emoji
    assert react(carol, message["id"]).status_code == 404  # not her conversation
    assert react(bob, 10**9).status_code == 404
    bad_on = bob.post(f"/api/v1/messages/{message['id']}/react/", {"emoji": "👍", "on": "maybe"}, format="json")
    assert bad_on.status_code == 400
    assert not MessageReaction.objects.exists()
    react(bob, message["id"])
    assert bob.post(f"/api/v1/messages/{message['id']}/recall/").status_code == 200
    assert not MessageReaction.objects.exists()  # a recall takes them away
    late = react(bob, message["id"])
    assert late.status_code == 409 and late.json()["code"] == "conflict"


def test_a_page_of_history_reads_its_reactions_in_one_query(demo, api_for, django_assert_num_queries):
    bob, alice = api_for(demo["bob"]), api_for(demo["alice"])
    for index in range(5):
        sent = send(bob, conversation=dev().pk, body={"text": f"m{index}"})
        react(alice, sent["id"], "👀")
    send(alice, conversation=dev().pk, body={"text": "re"}, reply_to=sent["id"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = history(alice, dev().pk)
    assert page[-1]["reply_to"]["id"] == sent["id"]
    assert sum("messaging_messagereaction" in q["sql"] for q in queries.captured_queries) == 1
    # The quoted messages come with the page, not one by one.
    assert sum('FROM "messaging_message"' in q["sql"] for q in queries.captured_queries) == 1


@pytest.mark.asyncio
async def test_a_react_frame_is_seen_live_by_every_member(demo, connect):
    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    await alice.send({"type": "send", "client_id": "m1", "to": demo["bob"].id, "body": {"text": "Ship it?"}})
    ack = await alice.recv_type("ack")
    await bob.recv_type("message")
    await bob.send({"type": "react", "message": ack["id"], "emoji": "👍", "on": True})
    for client in (alice, bob):  # the reacting connection hears it too: that is its answer
        update = await client.recv_type("message_update")
        assert update["id"] == ack["id"] and update["reactions"] == [{"emoji": "👍", "count": 1}]
        assert update["reaction"] == {"user": demo["bob"].id, "emoji": "👍", "on": True}
    await bob.send({"type": "react", "message": ack["id"], "emoji": "👍", "on": False})
    update = await alice.recv_type("message_update")
    assert update["reactions"] == [] and update["reaction"]["on"] is False
    await bob.send({"type": "react", "message": ack["id"], "emoji": "🦄", "on": True})
    assert (await bob.recv_type("error"))["code"] == "invalid"
    await bob.send({"type": "react", "message": "x", "emoji": "👍", "on": True})
    assert (await bob.recv_type("error"))["code"] == "invalid"
    await alice.close()
    await bob.close()


# --- edits and recalls -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_edits_and_recalls_are_seen_live(demo, connect, api_for):
    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    await alice.send({"type": "send", "client_id": "e1", "to": demo["bob"].id, "body": {"text": "teh plan"}})
    ack = await alice.recv_type("ack")
    await bob.recv_type("message")
    client = api_for(demo["alice"])
    edited = await database_sync_to_async(client.patch)(
        f"/api/v1/messages/{ack['id']}/", {"body": {"text": "the plan"}}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["edited_at"]
    update = await bob.recv_type("message_update")
    assert update["body"]["text"] == "the plan" and update["edited_at"] and not update["recalled"]
    recalled = await database_sync_to_async(client.post)(f"/api/v1/messages/{ack['id']}/recall/")
    assert recalled.status_code == 200
    update = await bob.recv_type("message_update")
    assert update["recalled"] is True and update["body"] == {}
    # Only the sender changes a message.
    other = await database_sync_to_async(api_for(demo["bob"]).patch)(
        f"/api/v1/messages/{ack['id']}/", {"body": {"text": "mine now"}}, format="json"
    )
    assert other.status_code in (403, 409)
    await alice.close()
    await bob.close()


def test_what_an_app_sent_for_its_own_part_cannot_be_recalled(demo, api_for):
    bob = api_for(demo["bob"])
    direct = send(bob, to=demo["alice"].id, body={"text": "hi"})
    card = Message.objects.create(
        conversation_id=direct["conversation"], seq=100, sender=demo["bob"], app="approval",
        body={"title": "Leave"}, client_id="card",
    )
    refused = bob.post(f"/api/v1/messages/{card.pk}/recall/")
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    card.refresh_from_db()
    assert card.recalled_at is None and card.body == {"title": "Leave"}


def test_who_reacted_is_listed_for_members_only(demo, api_for, django_assert_max_num_queries):
    bob, alice, lead, carol = (api_for(demo[n]) for n in ("bob", "alice", "dev_lead", "carol"))
    message = send(bob, conversation=dev().pk, body={"text": "Lunch?"})
    react(alice, message["id"], "🎉")
    react(lead, message["id"], "🎉")
    react(lead, message["id"], "👍")
    with django_assert_max_num_queries(4):
        people = bob.get(f"/api/v1/messages/{message['id']}/reactions/").json()
    assert people == [
        {"emoji": "🎉", "count": 2, "users": [
            {"id": demo["alice"].id, "display_name": demo["alice"].name},
            {"id": demo["dev_lead"].id, "display_name": demo["dev_lead"].name},
        ]},
        {"emoji": "👍", "count": 1, "users": [{"id": demo["dev_lead"].id, "display_name": demo["dev_lead"].name}]},
    ]  # fmt: skip
    assert carol.get(f"/api/v1/messages/{message['id']}/reactions/").status_code == 404
