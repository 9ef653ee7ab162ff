"""Group management (docs/api.md, docs/protocol.md): the owner adds and removes members,
renames the group and sets its notice, anyone leaves; every change is told in the group
by a ``group`` message, live to the members, the one removed or leaving included."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from messaging.models import Conversation, ConversationMember, Message
from messaging.registry import message_preview

pytestmark = pytest.mark.django_db(transaction=True)


def make_group(client, title, *members):
    response = client.post("/api/v1/conversations/", {"title": title, "members": [m.id for m in members]}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def member_ids(conversation_id) -> set[int]:
    return set(ConversationMember.objects.filter(conversation_id=conversation_id).values_list("user_id", flat=True))


def group_messages(conversation_id) -> list[Message]:
    return list(Message.objects.filter(conversation_id=conversation_id, app="group").order_by("seq"))


def snapshot(conversation_id):
    conversation = Conversation.objects.get(pk=conversation_id)
    return (
        conversation.title, conversation.notice, conversation.created_by_id, conversation.last_seq,
        member_ids(conversation_id),
    )  # fmt: skip


def send(client, conversation_id, text="hi"):
    return client.post(
        "/api/v1/messages/",
        {"client_id": str(uuid.uuid4()), "conversation": conversation_id, "body": {"text": text}},
        format="json",
    )


@pytest.fixture
def lunch(demo, api_for):
    """alice's group with bob, after one chat message."""
    group = make_group(api_for(demo["alice"]), "Lunch", demo["bob"])
    assert send(api_for(demo["bob"]), group["id"], "noon?").status_code == 201
    return group["id"]


# --- the conversation shows its owner and notice --------------------------------------------


def test_a_group_names_its_owner_and_notice_and_other_conversations_none(demo, api_for, lunch):
    inbox = {c["id"]: c for c in api_for(demo["bob"]).get("/api/v1/conversations/").json()}
    assert inbox[lunch]["owner"] == demo["alice"].id and inbox[lunch]["notice"] == ""
    department = Conversation.objects.get(department__code="dev").pk
    assert inbox[department]["owner"] is None


# --- adding -----------------------------------------------------------------------------------


def test_the_owner_adds_a_contact_who_starts_with_everything_read(demo, api_for, lunch):
    response = api_for(demo["alice"]).post(
        f"/api/v1/conversations/{lunch}/members/", {"users": [demo["dev_lead"].id]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert {m["id"] for m in body["members"]} == {demo["alice"].id, demo["bob"].id, demo["dev_lead"].id}
    (told,) = group_messages(lunch)
    assert told.sender_id == demo["alice"].id
    assert told.body == {
        "action": "add",
        "by": {"id": demo["alice"].id, "name": demo["alice"].name},
        "users": [{"id": demo["dev_lead"].id, "name": demo["dev_lead"].name}],
    }
    joined = ConversationMember.objects.get(conversation_id=lunch, user=demo["dev_lead"])
    assert joined.last_read_seq == told.seq - 1  # what was said before; the news itself is unread
    lead = api_for(demo["dev_lead"]).get(f"/api/v1/conversations/{lunch}/").json()
    assert lead["unread"] == 1
    assert lead["last_message"]["preview"] == f"{demo['alice'].name} added {demo['dev_lead'].name}"
    # The new member writes at once: what the send checks keep knows them.
    assert send(api_for(demo["dev_lead"]), lunch).status_code == 201


def test_adding_members_already_there_changes_nothing(demo, api_for, lunch):
    before = snapshot(lunch)
    response = api_for(demo["alice"]).post(
        f"/api/v1/conversations/{lunch}/members/", {"users": [demo["bob"].id]}, format="json"
    )
    assert response.status_code == 200
    assert snapshot(lunch) == before


@pytest.mark.parametrize(
    "who, users, status, code",
    [
        ("bob", ["dev_lead"], 403, "not_permitted"),  # not the owner
        ("alice", ["carol"], 403, "not_permitted"),  # not alice's contact
        ("alice", ["dev_lead", "carol"], 403, "not_permitted"),  # one refused: nobody is added
        ("secretary", ["dev_lead"], 404, "not_found"),  # not a member
    ],
)
def test_refused_additions_change_nothing(demo, api_for, lunch, who, users, status, code):
    before = snapshot(lunch)
    response = api_for(demo[who]).post(
        f"/api/v1/conversations/{lunch}/members/", {"users": [demo[u].id for u in users]}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert snapshot(lunch) == before


def test_someone_the_rules_keep_from_a_member_is_not_added(demo, api_for):
    # The president sees every manager, but Development's lead and HR's do not see each other.
    president = api_for(demo["president"])
    group = make_group(president, "Managers", demo["dev_lead"])["id"]
    before = snapshot(group)
    response = president.post(f"/api/v1/conversations/{group}/members/", {"users": [demo["hr_lead"].id]}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted" and response.json()["users"] == [demo["hr_lead"].id]
    assert snapshot(group) == before
    # The secretary's office sees every manager: she may talk with Development's lead.
    assert president.post(
        f"/api/v1/conversations/{group}/members/", {"users": [demo["secretary"].id]}, format="json"
    ).status_code == 200


def test_a_group_stays_within_its_size_and_one_request_within_its_share(demo, api_for, lunch, settings):
    alice = api_for(demo["alice"])
    settings.GROUP_MAX_MEMBERS = 2
    before = snapshot(lunch)
    response = alice.post(f"/api/v1/conversations/{lunch}/members/", {"users": [demo["dev_lead"].id]}, format="json")
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert snapshot(lunch) == before
    response = alice.post(f"/api/v1/conversations/", {"title": "Big", "members": [demo["bob"].id, demo["dev_lead"].id]}, format="json")
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    settings.GROUP_MAX_MEMBERS = 1000
    response = alice.post(f"/api/v1/conversations/{lunch}/members/", {"users": list(range(1, 52))}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert snapshot(lunch) == before


@pytest.mark.parametrize("payload", [{}, {"users": []}, {"users": "bob"}, {"users": [None]}, {"users": [{"id": 1}]}])
def test_malformed_additions_are_invalid(demo, api_for, lunch, payload):
    before = snapshot(lunch)
    response = api_for(demo["alice"]).post(f"/api/v1/conversations/{lunch}/members/", payload, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert snapshot(lunch) == before


def test_an_unknown_or_inactive_person_is_not_added(demo, api_for, lunch):
    demo["dev_lead"].is_active = False
    demo["dev_lead"].save()
    before = snapshot(lunch)
    for user_id in (demo["dev_lead"].id, 987654):
        response = api_for(demo["alice"]).post(
            f"/api/v1/conversations/{lunch}/members/", {"users": [user_id]}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert snapshot(lunch) == before


# --- department and direct conversations are not managed here --------------------------------


def test_department_and_direct_conversations_are_not_groups(demo, api_for):
    alice = api_for(demo["alice"])
    department = Conversation.objects.get(department__code="dev").pk
    direct = alice.post("/api/v1/conversations/direct/", {"user": demo["bob"].id}, format="json").json()["id"]
    lead = api_for(demo["dev_lead"])
    for client, conversation in ((lead, department), (alice, direct)):
        before = snapshot(conversation)
        for method, path, payload in (
            ("patch", f"/api/v1/conversations/{conversation}/", {"title": "Mine"}),
            ("post", f"/api/v1/conversations/{conversation}/members/", {"users": [demo["dev_lead"].id]}),
            ("delete", f"/api/v1/conversations/{conversation}/members/{demo['bob'].id}/", None),
            ("post", f"/api/v1/conversations/{conversation}/leave/", None),
        ):
            response = getattr(client, method)(path, payload, format="json")
            assert (response.status_code, response.json()["code"]) == (403, "not_permitted"), (method, path)
        assert snapshot(conversation) == before


# --- renaming and the notice -------------------------------------------------------------------


def test_the_owner_renames_and_sets_the_notice(demo, api_for, lunch):
    alice = api_for(demo["alice"])
    response = alice.patch(f"/api/v1/conversations/{lunch}/", {"title": " Friday lunch ", "notice": "Noon, canteen"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["title"], response.json()["notice"]) == ("Friday lunch", "Noon, canteen")
    rename, notice = group_messages(lunch)
    assert (rename.body["action"], rename.body["title"]) == ("rename", "Friday lunch")
    assert (notice.body["action"], notice.body["notice"]) == ("notice", "Noon, canteen")
    assert message_preview(rename) == f"{demo['alice'].name} renamed the group to “Friday lunch”"
    assert message_preview(notice) == f"{demo['alice'].name} changed the group notice"
    # The same again tells no one; an empty notice clears it.
    alice.patch(f"/api/v1/conversations/{lunch}/", {"title": "Friday lunch"}, format="json")
    assert len(group_messages(lunch)) == 2
    assert alice.patch(f"/api/v1/conversations/{lunch}/", {"notice": ""}, format="json").json()["notice"] == ""
    assert message_preview(group_messages(lunch)[-1]) == f"{demo['alice'].name} cleared the group notice"


@pytest.mark.parametrize(
    "who, payload, status, code",
    [
        ("bob", {"title": "Mine"}, 403, "not_permitted"),
        ("bob", {"notice": "Mine"}, 403, "not_permitted"),
        ("alice", {}, 400, "invalid"),
        ("alice", {"title": ""}, 400, "invalid"),
        ("alice", {"title": "   "}, 400, "invalid"),
        ("alice", {"title": "x" * 201}, 400, "invalid"),
        ("alice", {"title": ["x"]}, 400, "invalid"),
        ("alice", {"title": "ok", "notice": "x" * 2001}, 400, "invalid"),
        ("alice", {"notice": "a\x00b"}, 400, "invalid"),
        ("carol", {"title": "Mine"}, 404, "not_found"),
    ],
)
def test_refused_changes_change_nothing(demo, api_for, lunch, who, payload, status, code):
    before = snapshot(lunch)
    response = api_for(demo[who]).patch(f"/api/v1/conversations/{lunch}/", payload, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert snapshot(lunch) == before


# --- removing and leaving -------------------------------------------------------------------------


def test_the_owner_removes_a_member_who_can_no_longer_read_or_write(demo, api_for, lunch):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    response = alice.delete(f"/api/v1/conversations/{lunch}/members/{demo['bob'].id}/")
    assert response.status_code == 200, response.content
    assert {m["id"] for m in response.json()["members"]} == {demo["alice"].id}
    (told,) = group_messages(lunch)
    assert told.body["action"] == "remove" and told.body["users"] == [{"id": demo["bob"].id, "name": demo["bob"].name}]
    assert bob.get(f"/api/v1/conversations/{lunch}/").status_code == 404
    assert lunch not in {c["id"] for c in bob.get("/api/v1/conversations/").json()}
    # What the send checks keep forgets the member at once.
    assert send(bob, lunch).json()["code"] == "not_found"


@pytest.mark.parametrize(
    "who, target, status, code",
    [
        ("bob", "alice", 403, "not_permitted"),  # not the owner
        ("alice", "alice", 400, "invalid"),  # the owner leaves instead
        ("alice", "carol", 404, "not_found"),  # no member
    ],
)
def test_refused_removals_change_nothing(demo, api_for, lunch, who, target, status, code):
    before = snapshot(lunch)
    response = api_for(demo[who]).delete(f"/api/v1/conversations/{lunch}/members/{demo[target].id}/")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert snapshot(lunch) == before


def test_a_member_leaves(demo, api_for, lunch):
    bob = api_for(demo["bob"])
    assert bob.post(f"/api/v1/conversations/{lunch}/leave/").status_code == 204
    assert member_ids(lunch) == {demo["alice"].id}
    (told,) = group_messages(lunch)
    assert told.sender_id == demo["bob"].id and told.body["action"] == "leave" and "owner" not in told.body
    assert message_preview(told) == f"{demo['bob'].name} left the group"
    assert bob.post(f"/api/v1/conversations/{lunch}/leave/").status_code == 404


def test_an_owner_who_leaves_hands_the_group_to_the_longest_member_and_the_last_leaves_it_ownerless(demo, api_for, lunch):
    alice = api_for(demo["alice"])
    alice.post(f"/api/v1/conversations/{lunch}/members/", {"users": [demo["dev_lead"].id]}, format="json")
    assert alice.post(f"/api/v1/conversations/{lunch}/leave/").status_code == 204
    told = group_messages(lunch)[-1]
    assert told.body["owner"] == {"id": demo["bob"].id, "name": demo["bob"].name}  # joined before dev_lead
    assert message_preview(told) == f"{demo['alice'].name} left the group; {demo['bob'].name} is its owner now"
    bob = api_for(demo["bob"])
    assert bob.get(f"/api/v1/conversations/{lunch}/").json()["owner"] == demo["bob"].id
    # The new owner may change it, and says @all.
    assert bob.patch(f"/api/v1/conversations/{lunch}/", {"title": "Bob's lunch"}, format="json").status_code == 200
    ack = send(bob, lunch, "@all soup").json()
    assert Message.objects.get(pk=ack["id"]).mentions == [demo["dev_lead"].id]
    bob.post(f"/api/v1/conversations/{lunch}/leave/")
    api_for(demo["dev_lead"]).post(f"/api/v1/conversations/{lunch}/leave/")
    conversation = Conversation.objects.get(pk=lunch)  # kept, with its history, for no one
    assert conversation.created_by_id is None and member_ids(lunch) == set()


# --- live ------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_members_hear_each_change_live_and_the_one_removed_hears_it_too(demo, api_for, lunch, connect):
    alice = await connect(demo["alice"])
    bob = await connect(demo["bob"])
    lead = await connect(demo["dev_lead"])
    call = database_sync_to_async(lambda method, path, payload=None: getattr(api_for(demo["alice"]), method)(path, payload, format="json"))

    response = await call("post", f"/api/v1/conversations/{lunch}/members/", {"users": [demo["dev_lead"].id]})
    assert response.status_code == 200
    for client in (alice, bob, lead):  # the new member too: its client learns of the group so
        frame = await client.recv_type("message")
        assert (frame["conversation"], frame["app"], frame["body"]["action"]) == (lunch, "group", "add")

    response = await call("delete", f"/api/v1/conversations/{lunch}/members/{demo['bob'].id}/")
    assert response.status_code == 200
    for client in (alice, bob, lead):
        frame = await client.recv_type("message")
        assert frame["body"]["action"] == "remove" and frame["body"]["users"][0]["id"] == demo["bob"].id

    # Bob is gone: the next change reaches the others only.
    await call("patch", f"/api/v1/conversations/{lunch}/", {"notice": "Bring cups"})
    for client in (alice, lead):
        assert (await client.recv_type("message"))["body"]["action"] == "notice"
    assert await bob.no("message")
    for client in (alice, bob, lead):
        await client.close()
