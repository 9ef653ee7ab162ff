"""The send path: query counts, gap-free seqs under failure, events on commit."""

import uuid

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from imsite.errors import ApplicationError
from messaging import services
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


def send(sender, **kwargs):
    kwargs.setdefault("client_id", str(uuid.uuid4()))
    kwargs.setdefault("body", {"text": "hi"})
    return services.message_send(sender=sender, **kwargs)


def test_send_path_query_count(demo):
    first = send(demo["alice"], to_user_id=demo["bob"].id).message
    group = services.conversation_create_group(creator=demo["alice"], title="G", member_ids=[demo["bob"].id])
    # A group send: idempotency check, membership, lock, insert, two updates, members.
    with CaptureQueriesContext(connection) as queries:
        send(demo["alice"], conversation_id=group.pk)
    assert len(queries) <= 9, [q["sql"] for q in queries]
    # A direct send re-checks that the two may still talk (a few more, fixed).
    with CaptureQueriesContext(connection) as queries:
        send(demo["alice"], conversation_id=first.conversation_id)
    assert len(queries) <= 17, [q["sql"] for q in queries]


def test_failed_store_gives_its_seq_back(demo):
    conversation_id = send(demo["alice"], to_user_id=demo["bob"].id).message.conversation_id
    # A row that squats on the next seq makes the insert fail after the seq was taken.
    squatter = Message.objects.create(
        conversation_id=conversation_id, seq=2, sender=demo["bob"], body={}, client_id="squat"
    )
    with pytest.raises(IntegrityError):
        send(demo["alice"], conversation_id=conversation_id)
    assert Conversation.objects.get(pk=conversation_id).last_seq == 1
    squatter.delete()
    assert send(demo["alice"], conversation_id=conversation_id).message.seq == 2
    assert Conversation.objects.get(pk=conversation_id).last_seq == 2


def test_refused_direct_send_after_rules_change(demo):
    from contacts.models import FriendRequest

    fr = FriendRequest.objects.create(from_user=demo["alice"], to_user=demo["carol"], status="accepted")
    conversation_id = send(demo["alice"], to_user_id=demo["carol"].id).message.conversation_id
    fr.delete()
    with pytest.raises(ApplicationError) as error:
        send(demo["alice"], conversation_id=conversation_id)
    assert error.value.code == "not_permitted"
    assert Message.objects.count() == 1


def test_nul_characters_are_refused(demo):
    with pytest.raises(ApplicationError) as error:
        send(demo["alice"], to_user_id=demo["bob"].id, body={"text": "a\u0000b"})
    assert error.value.code == "invalid"


def test_department_sync_is_idempotent(demo):
    before = Conversation.objects.filter(kind="department").count()
    assert before == 6  # the root and its five departments
    services.department_conversations_sync()
    assert Conversation.objects.filter(kind="department").count() == before


def test_a_literal_backslash_u_is_just_text(demo):
    message = send(demo["alice"], to_user_id=demo["bob"].id, body={"text": "write \\u0000 for NUL"}).message
    assert message.body["text"] == "write \\u0000 for NUL"


def test_apps_may_keep_their_messages_to_themselves(demo):
    from messaging.registry import AppHandler, app_handlers, register_app_handler

    class SystemNotice(AppHandler):
        app = "system_notice"
        client_sendable = False
        editable = False

    register_app_handler(SystemNotice())
    try:
        with pytest.raises(ApplicationError) as error:
            send(demo["alice"], to_user_id=demo["bob"].id, app="system_notice", body={"text": "hi"})
        assert error.value.code == "not_permitted"
        message = send(demo["alice"], to_user_id=demo["bob"].id, app="system_notice", body={"text": "hi"}, from_client=False).message
        with pytest.raises(ApplicationError) as error:
            services.message_edit(user=demo["alice"], message_id=message.pk, body={"text": "changed"})
        assert error.value.code == "not_permitted"
    finally:
        app_handlers.unregister("system_notice")
