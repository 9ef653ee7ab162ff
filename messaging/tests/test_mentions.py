"""@mentions: parsed by the server from a chat message's text, stored on the message and
counted, unread, in the inbox (docs/protocol.md)."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from messaging.models import Conversation, Message, MessageMention
from messaging.send.mentions import mention_names

pytestmark = pytest.mark.django_db(transaction=True)


def send(client, **payload):
    payload.setdefault("client_id", str(uuid.uuid4()))
    response = client.post("/api/v1/messages/", payload, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def stored(ack) -> Message:
    return Message.objects.get(pk=ack["id"])


def inbox(client) -> dict[int, dict]:
    return {c["id"]: c for c in client.get("/api/v1/conversations/").json()}


def dev_conversation() -> Conversation:
    return Conversation.objects.get(department__code="dev")


def test_names_are_read_from_words_that_start_with_an_at_sign():
    assert mention_names("hi @alice and @bob.") == {"alice", "bob.", "bob"}
    assert mention_names("@all: lunch") == {"all"}
    assert mention_names("mail me at alice@example.com") == set()
    assert mention_names("(@carol) @ nobody @") == {"carol"}
    assert mention_names("@a.b-c+d@x") == {"a.b-c+d@x"}


def test_a_member_named_is_mentioned_and_strangers_and_the_sender_are_not(demo, api_for):
    bob = api_for(demo["bob"])
    ack = send(bob, conversation=dev_conversation().pk, body={"text": "@alice, @carol and @bob: see @nobody"})
    assert stored(ack).mentions == [demo["alice"].id]  # carol is not in Development
    rows = list(MessageMention.objects.values_list("user_id", "conversation_id", "seq"))
    assert rows == [(demo["alice"].id, ack["conversation"], ack["seq"])]
    page = bob.get(f"/api/v1/conversations/{ack['conversation']}/messages/").json()["results"]
    assert page[-1]["mentions"] == [demo["alice"].id]


def test_in_a_direct_conversation_the_other_person_can_be_mentioned(demo, api_for):
    ack = send(api_for(demo["alice"]), to=demo["bob"].id, body={"text": "@bob. ok?"})
    assert stored(ack).mentions == [demo["bob"].id]
    plain = send(api_for(demo["alice"]), to=demo["bob"].id, body={"text": "no one"})
    assert stored(plain).mentions == []


def test_mentions_a_client_sends_are_ignored(demo, api_for):
    ack = send(
        api_for(demo["bob"]), conversation=dev_conversation().pk,
        body={"text": "hello", "mentions": [demo["alice"].id]}, mentions=[demo["alice"].id],
    )  # fmt: skip
    assert stored(ack).mentions == []
    assert not MessageMention.objects.exists()


def test_at_all_is_for_the_department_manager_and_the_group_owner_only(demo, api_for):
    dev = dev_conversation()
    members = set(dev.memberships.values_list("user_id", flat=True))
    by_lead = send(api_for(demo["dev_lead"]), conversation=dev.pk, body={"text": "@all stand-up"})
    assert set(stored(by_lead).mentions) == members - {demo["dev_lead"].id}
    by_bob = send(api_for(demo["bob"]), conversation=dev.pk, body={"text": "@all stand-up"})
    assert stored(by_bob).mentions == []  # just text

    bob = api_for(demo["bob"])
    group = bob.post("/api/v1/conversations/", {"title": "Lunch", "members": [demo["alice"].id]}, format="json").json()
    assert set(stored(send(bob, conversation=group["id"], body={"text": "@all noon"})).mentions) == {demo["alice"].id}
    by_alice = send(api_for(demo["alice"]), conversation=group["id"], body={"text": "@all noon"})
    assert stored(by_alice).mentions == []

    direct = send(bob, to=demo["alice"].id, body={"text": "@all"})
    assert stored(direct).mentions == []


def test_the_inbox_counts_my_unread_mentions_and_reading_clears_them(demo, api_for):
    dev = dev_conversation()
    bob, alice = api_for(demo["bob"]), api_for(demo["alice"])
    send(bob, conversation=dev.pk, body={"text": "@alice one"})
    last = send(bob, conversation=dev.pk, body={"text": "and @alice two"})
    send(bob, conversation=dev.pk, body={"text": "nothing for you"})
    assert inbox(alice)[dev.pk]["mentions"] == 2
    assert inbox(bob)[dev.pk]["mentions"] == 0
    assert alice.post(f"/api/v1/conversations/{dev.pk}/read/", {"seq": last["seq"] - 1}, format="json").status_code == 200
    assert inbox(alice)[dev.pk]["mentions"] == 1
    alice.post(f"/api/v1/conversations/{dev.pk}/read/", {"seq": last["seq"]}, format="json")
    assert inbox(alice)[dev.pk]["mentions"] == 0
    assert all(c["mentions"] == 0 for c in inbox(alice).values())


def test_a_recalled_message_mentions_no_one(demo, api_for):
    dev = dev_conversation()
    bob = api_for(demo["bob"])
    ack = send(bob, conversation=dev.pk, body={"text": "@alice oops"})
    assert bob.post(f"/api/v1/messages/{ack['id']}/recall/").status_code == 200
    assert stored(ack).mentions == [] and not MessageMention.objects.exists()
    assert inbox(api_for(demo["alice"]))[dev.pk]["mentions"] == 0


def test_the_inbox_with_mentions_takes_a_fixed_number_of_queries(demo, api_for, django_assert_max_num_queries):
    bob, alice = api_for(demo["bob"]), api_for(demo["alice"])
    send(bob, conversation=dev_conversation().pk, body={"text": "@alice hi"})
    send(bob, to=demo["alice"].id, body={"text": "@alice hi"})
    send(alice, to=demo["dev_lead"].id, body={"text": "@dev_lead hi"})
    with django_assert_max_num_queries(8):
        listed = inbox(alice)
    assert sorted(c["mentions"] for c in listed.values()) == [0, 1, 1]


def test_a_message_without_an_at_sign_costs_no_query_for_mentions(demo, api_for):
    bob = api_for(demo["bob"])
    dev = dev_conversation().pk
    send(bob, conversation=dev, body={"text": "warm"})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as plain:
        send(bob, conversation=dev, body={"text": "no mention"})
    with CaptureQueriesContext(connection) as mentioning:
        send(bob, conversation=dev, body={"text": "@alice"})
    # The usernames in one query; the mention rows in the statement that stores the
    # message on PostgreSQL, in one more elsewhere.
    assert len(mentioning) == len(plain) + (1 if connection.vendor == "postgresql" else 2)


@pytest.mark.asyncio
async def test_message_frames_and_sync_carry_the_mentions(demo, connect):
    bob, alice = await connect(demo["bob"]), await connect(demo["alice"])
    dev = await database_sync_to_async(dev_conversation)()
    await bob.send({
        "type": "send", "client_id": str(uuid.uuid4()), "conversation": dev.pk,
        "body": {"text": "@alice look"}, "mentions": [demo["dev_lead"].id],
    })  # fmt: skip
    ack = await bob.recv_type("ack")
    frame = await alice.recv_type("message")
    assert frame["id"] == ack["id"] and frame["mentions"] == [demo["alice"].id]
    phone = await connect(demo["alice"])
    await phone.send({"type": "sync", "after": ack["id"] - 1})
    replayed = await phone.recv_type("message")
    assert replayed["id"] == ack["id"] and replayed["mentions"] == [demo["alice"].id]
    for client in (bob, alice, phone):
        await client.close()


def test_an_edit_reads_the_mentions_again(demo, api_for):
    dev = dev_conversation()
    bob = api_for(demo["bob"])
    ack = send(bob, conversation=dev.pk, body={"text": "@alice please"})
    edited = bob.patch(f"/api/v1/messages/{ack['id']}/", {"body": {"text": "@dev_lead please"}}, format="json")
    assert edited.status_code == 200 and edited.json()["mentions"] == [demo["dev_lead"].id]
    assert list(MessageMention.objects.values_list("user_id", flat=True)) == [demo["dev_lead"].id]
    assert inbox(api_for(demo["alice"]))[dev.pk]["mentions"] == 0
    assert inbox(api_for(demo["dev_lead"]))[dev.pk]["mentions"] == 1
