"""The worker keeps what a send's checks read while the policy version stays; every
write that could change an answer moves the version, whoever makes it."""

import uuid

import pytest
from django.contrib.auth.models import update_last_login
from django.db import connection

from contacts.policy import policy_version
from core.errors import ApplicationError
from messaging import services
from messaging.models import Conversation, ConversationMember, Message
from messaging.send import message_send
from messaging.send.cache import send_cache

pytestmark = pytest.mark.django_db


def send(sender, **target):
    return message_send(sender=sender, client_id=str(uuid.uuid4()), body={"text": "hi"}, **target)


def refusal(sender, **target):
    with pytest.raises(ApplicationError) as error:
        send(sender, **target)
    return error.value.code


def test_a_person_deactivated_by_a_bulk_update_is_no_longer_written_to(demo):
    alice, bob = demo["alice"], demo["bob"]
    send(alice, to_user_id=bob.pk)  # known to the worker now
    type(bob).objects.filter(pk=bob.pk).update(is_active=False)  # no signal, no save()
    assert refusal(alice, to_user_id=bob.pk) == "not_found"
    type(bob).objects.filter(pk=bob.pk).update(is_active=True)
    assert send(alice, to_user_id=bob.pk).created


def test_a_person_deactivated_in_sql_is_no_longer_written_to(demo):
    alice, bob = demo["alice"], demo["bob"]
    conversation_id = send(alice, to_user_id=bob.pk).message.conversation_id
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET is_active = %s WHERE id = %s", [False, bob.pk])
    assert refusal(alice, conversation_id=conversation_id) == "not_permitted"


def test_a_member_removed_or_added_behind_the_workers_back_counts_at_once(demo):
    alice, bob, dev_lead = demo["alice"], demo["bob"], demo["dev_lead"]
    group = services.conversation_create_group(creator=alice, title="Lunch", member_ids=[bob.pk])
    send(bob, conversation_id=group.pk)
    ConversationMember.objects.filter(conversation=group, user=bob).delete()
    assert refusal(bob, conversation_id=group.pk) == "not_found"
    assert refusal(dev_lead, conversation_id=group.pk) == "not_found"
    ConversationMember.objects.bulk_create([ConversationMember(conversation=group, user=dev_lead)])
    assert send(dev_lead, conversation_id=group.pk).created
    # and the new member is among those the next message goes to
    assert sorted(send_cache.conversations([group.pk])[group.pk][1]) == sorted([alice.pk, dev_lead.pk])


def test_a_deleted_direct_conversation_is_begun_again(demo):
    alice, bob = demo["alice"], demo["bob"]
    gone = send(alice, to_user_id=bob.pk).message.conversation_id
    Conversation.objects.filter(pk=gone).delete()
    again = send(alice, to_user_id=bob.pk).message
    assert again.conversation_id != gone and again.seq == 1


def test_messages_reading_and_signing_in_leave_the_version_alone(demo):
    alice, bob = demo["alice"], demo["bob"]
    conversation_id = send(alice, to_user_id=bob.pk).message.conversation_id
    before = policy_version()
    message = send(bob, conversation_id=conversation_id).message
    services.conversation_mark_read(user=alice, conversation_id=conversation_id, seq=message.seq)
    update_last_login(None, alice)
    alice.display_name = "Alice A."
    alice.save()
    assert policy_version() == before
    assert Message.objects.filter(conversation_id=conversation_id).count() == 2


def test_members_added_by_an_insert_that_ignores_conflicts_move_the_version(demo):
    """On SQLite a trigger takes the conflict clause of the statement that fired it; the
    department sync adds members with ``ignore_conflicts``, which must still count."""
    alice, bob, dev_lead = demo["alice"], demo["bob"], demo["dev_lead"]
    group = services.conversation_create_group(creator=alice, title="Standup", member_ids=[bob.pk])
    send(alice, conversation_id=group.pk)
    before = policy_version()
    ConversationMember.objects.bulk_create([ConversationMember(conversation=group, user=dev_lead)], ignore_conflicts=True)
    assert policy_version() != before
    assert send(dev_lead, conversation_id=group.pk).created


def test_beginning_a_direct_conversation_leaves_the_version_alone(demo):
    """Its two members come with it, so no worker can have kept it without them; a group's
    members moving the version is what the tests above rely on."""
    before = policy_version()
    conversation_id = send(demo["alice"], to_user_id=demo["bob"].pk).message.conversation_id
    assert Conversation.objects.get(pk=conversation_id).kind == Conversation.Kind.DIRECT
    assert policy_version() == before
    services.conversation_create_group(creator=demo["alice"], title="Team", member_ids=[demo["bob"].pk])
    assert policy_version() != before
