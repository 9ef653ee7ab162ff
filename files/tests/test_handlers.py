"""The ``file`` message: every rule of its body, through the real send path."""

from __future__ import annotations

import uuid

import pytest

from files import services
from core.errors import ApplicationError
from messaging.models import Message
from messaging.send import message_send
from messaging.services import message_edit

from .conftest import sha256, upload_of

pytestmark = pytest.mark.django_db

CONTENT = b"quarterly figures"


def send_file(sender, conversation, **body):
    return message_send(
        sender=sender, client_id=str(uuid.uuid4()), app="file", conversation_id=conversation.pk, body=body
    ).message


def p2p_body(**changes):
    body = {"name": "figures.csv", "size": len(CONTENT), "type": "text/csv", "sha256": sha256(CONTENT), "transport": "p2p"}
    return {**body, **changes}


@pytest.fixture
def upload(demo, dev_room):
    return services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(CONTENT, "figures.csv", "text/csv"))


def test_a_relayed_file_names_its_upload_and_gets_its_url(demo, dev_room, upload):
    message = send_file(
        demo["alice"], dev_room, **p2p_body(transport="relay", file=upload.pk, name="renamed.exe", type="text/html",
                                            url="https://evil.example/x", extra="dropped")
    )
    assert message.body == {
        "name": "figures.csv",
        "size": len(CONTENT),
        "type": "text/csv",
        "sha256": sha256(CONTENT),
        "transport": "relay",
        "file": upload.pk,
        "url": f"/files/{upload.pk}/",
    }


def test_a_direct_file_needs_no_upload(demo, dev_room):
    message = send_file(demo["alice"], dev_room, **p2p_body(name="../plan\u202e.txt", url="/files/1/", file=None))
    assert message.body == {**p2p_body(name="plan.txt")}


def test_type_may_be_empty_or_left_out(demo, dev_room):
    assert send_file(demo["alice"], dev_room, **p2p_body(type="")).body["type"] == ""
    body = p2p_body()
    del body["type"]
    assert send_file(demo["alice"], dev_room, **body).body["type"] == ""


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"name": "x" * 256},
        {"name": 5},
        {"name": None},
        {"size": -1},
        {"size": "17"},
        {"size": True},
        {"size": 1.5},
        {"size": None},
        {"type": 5},
        {"type": "x" * 201},
        {"sha256": "A" * 64},
        {"sha256": "a" * 63},
        {"sha256": "g" * 64},
        {"sha256": None},
        {"transport": "email"},
        {"transport": None},
        {"transport": "relay"},  # without its upload
        {"transport": "relay", "file": "1"},
        {"transport": "relay", "file": 10**6},  # no such upload
        {"file": 1},  # a direct file names no upload unless P2P files are archived
    ],
)
def test_malformed_bodies_are_refused(demo, dev_room, changes):
    with pytest.raises(ApplicationError) as error:
        send_file(demo["alice"], dev_room, **p2p_body(**changes))
    assert error.value.code == "invalid"
    assert not Message.objects.filter(app="file").exists()


def test_the_upload_must_be_the_senders_own_in_this_conversation(demo, dev_room, upload):
    from messaging.send import conversation_get_or_create_direct

    relay = p2p_body(transport="relay", file=upload.pk)
    # Bob is in the conversation too, but the upload is alice's.
    with pytest.raises(ApplicationError) as error:
        send_file(demo["bob"], dev_room, **relay)
    assert error.value.code == "invalid"
    # Alice's own upload, named in another conversation.
    direct = conversation_get_or_create_direct(user=demo["alice"], other_id=demo["bob"].pk)
    with pytest.raises(ApplicationError) as error:
        send_file(demo["alice"], direct, **relay)
    assert error.value.code == "invalid"
    assert not Message.objects.filter(app="file").exists()


@pytest.mark.parametrize("forged", [{"size": len(CONTENT) + 1}, {"sha256": sha256(b"other bytes")}])
def test_size_and_hash_must_match_the_upload(demo, dev_room, upload, forged):
    with pytest.raises(ApplicationError) as error:
        send_file(demo["alice"], dev_room, **p2p_body(transport="relay", file=upload.pk, **forged))
    assert error.value.code == "invalid"
    assert not Message.objects.filter(app="file").exists()


def test_archived_direct_files_name_their_upload(demo, dev_room, upload, settings):
    settings.FILE_ARCHIVE_P2P = True
    message = send_file(demo["alice"], dev_room, **p2p_body(file=upload.pk))
    assert (message.body["transport"], message.body["file"], message.body["url"]) == ("p2p", upload.pk, f"/files/{upload.pk}/")
    with pytest.raises(ApplicationError) as error:
        send_file(demo["alice"], dev_room, **p2p_body(file=upload.pk, sha256=sha256(b"forged")))
    assert error.value.code == "invalid"


def test_no_direct_files_while_p2p_is_off(demo, dev_room, upload, settings):
    settings.P2P_ENABLED = False
    with pytest.raises(ApplicationError) as error:
        send_file(demo["alice"], dev_room, **p2p_body())
    assert error.value.code == "invalid"
    assert send_file(demo["alice"], dev_room, **p2p_body(transport="relay", file=upload.pk)).body["transport"] == "relay"


def test_file_messages_cannot_be_edited(demo, dev_room):
    message = send_file(demo["alice"], dev_room, **p2p_body())
    with pytest.raises(ApplicationError) as error:
        message_edit(user=demo["alice"], message_id=message.pk, body=p2p_body(name="other.csv"))
    assert error.value.code == "not_permitted"
    message.refresh_from_db()
    assert message.body["name"] == "figures.csv"


def test_the_chat_loads_the_file_renderer(demo, client):
    from messaging.registry import app_handlers

    handler = app_handlers.get("file")
    assert (handler.renderer, handler.chat_include, handler.editable) == ("file", "files/chat_include.html", False)
    client.force_login(demo["alice"])
    assert client.get("/chat/").status_code == 200
