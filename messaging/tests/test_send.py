"""The send leg (messaging.send): query counts, gap-free seqs under failure, events on commit."""

import uuid

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from core.errors import ApplicationError
from messaging import services
from messaging.send import SendRequest, SendResult, message_send, message_send_many
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


def send(sender, **kwargs):
    kwargs.setdefault("client_id", str(uuid.uuid4()))
    kwargs.setdefault("body", {"text": "hi"})
    return message_send(sender=sender, **kwargs)


def test_send_path_query_count(demo):
    first = send(demo["alice"], to_user_id=demo["bob"].id).message
    group = services.conversation_create_group(creator=demo["alice"], title="G", member_ids=[demo["bob"].id])
    # The writes are one statement on PostgreSQL (in a savepoint here, as a test runs in a
    # transaction); elsewhere the repeat check, the lock, the insert and two updates.
    writes = 3 if connection.vendor == "postgresql" else 7

    def queries_for(**target):
        with CaptureQueriesContext(connection) as queries:
            send(demo["alice"], **target)
        return [q["sql"] for q in queries]

    # New to the worker (the group's members moved the policy version, so everything is):
    # the version, the conversation, its members, the writes.
    assert len(queries_for(conversation_id=group.pk)) <= 3 + writes
    # A direct one re-checks that the two may still talk: the version, the conversation,
    # its members, the other person, and the policy's reads of the two.
    assert len(queries_for(conversation_id=first.conversation_id)) <= 8 + writes
    queries_for(to_user_id=demo["bob"].pk)  # the direct conversation by its two people
    # Known, while the version stays: the version and the writes.
    for target in [{"conversation_id": group.pk}, {"conversation_id": first.conversation_id}, {"to_user_id": demo["bob"].pk}]:
        sql = queries_for(**target)
        assert len(sql) == 1 + writes, sql
        assert "contacts_policy_version" in sql[0]


# A send is stored inside its caller's transaction (in a savepoint) or, from a socket, on
# its own (on PostgreSQL one statement that commits itself): each test below holds both ways.
either_way = pytest.mark.parametrize(
    "committed",
    ["inside a transaction", pytest.param("on its own", marks=pytest.mark.django_db(transaction=True))],
)


@either_way
def test_failed_store_gives_its_seq_back(demo, committed):
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


# --- several sends with one commit -----------------------------------------------------------


def request(sender, **kwargs):
    kwargs.setdefault("client_id", str(uuid.uuid4()))
    kwargs.setdefault("body", {"text": "hi"})
    return SendRequest(sender=sender, **kwargs)


@pytest.fixture
def pairs():
    """Benchmark users in one department, paired, each pair's conversation begun."""
    import io

    from django.core.management import call_command

    from accounts.models import User

    call_command("bench_users", count=40, stdout=io.StringIO())
    users = list(User.objects.filter(username__startswith="bench").order_by("username"))
    found = list(zip(users[::2], users[1::2]))
    for a, b in found:
        send(a, to_user_id=b.pk)
    return found


def test_a_batch_of_sends_takes_as_many_queries_as_two(pairs):
    def queries_for(batch):
        with CaptureQueriesContext(connection) as queries:
            outcomes = message_send_many(batch)
        assert all(isinstance(o, SendResult) and o.created for o in outcomes), outcomes
        return len(queries)

    def both_ways(some):
        return [request(a, to_user_id=b.pk) for a, b in some] + [request(b, to_user_id=a.pk) for a, b in some]

    # (Two pairs new to the worker's cache first, then all: the others are new, the two known.)
    two = queries_for(both_ways(pairs[:2]))
    everyone = queries_for(both_ways(pairs))
    assert everyone == two
    by_id = [request(a, conversation_id=Conversation.objects.get(direct_key=Conversation.direct_key_for(a.pk, b.pk)).pk) for a, b in pairs]
    # (Two new to the worker first, then all: the others are new, the two are known.)
    two = queries_for([request(r.sender, conversation_id=r.conversation_id) for r in by_id[:2]])
    assert queries_for(by_id) == two


@either_way
def test_one_refusal_in_a_batch_does_not_hold_up_the_others(demo, committed):
    alice, bob, carol = demo["alice"], demo["bob"], demo["carol"]
    earlier = send(alice, to_user_id=bob.pk).message
    batch = [
        request(alice, to_user_id=bob.pk, client_id="first"),
        request(alice, to_user_id=bob.pk, body="not an object"),
        request(alice, to_user_id=carol.pk),  # no rule lets them talk
        request(alice, to_user_id=bob.pk, client_id=earlier.client_id),  # a repeat of a stored one
        request(alice, to_user_id=bob.pk, client_id="first"),  # a repeat within the batch
        request(bob, conversation_id=earlier.conversation_id, client_id="reply"),
        request(bob, conversation_id=999_999),
    ]
    first, bad_body, refused, repeat, twin, reply, nowhere = message_send_many(batch)

    assert (first.created, first.message.seq, reply.message.seq) == (True, 2, 3)
    assert (bad_body.code, refused.code, nowhere.code) == ("invalid", "not_permitted", "not_found")
    assert (repeat.created, repeat.message.pk) == (False, earlier.pk)
    assert (twin.created, twin.message.pk) == (False, first.message.pk)
    assert list(Message.objects.order_by("seq").values_list("seq", "client_id")) == [
        (1, earlier.client_id), (2, "first"), (3, "reply"),
    ]  # fmt: skip
    conversation = Conversation.objects.get(pk=earlier.conversation_id)
    assert conversation.last_seq == 3
    assert conversation.memberships.get(user=bob).last_read_seq == 3


@either_way
def test_a_send_whose_conversation_is_deleted_on_the_way_is_refused_alone(demo, committed):
    from messaging.registry import AppHandler, app_handlers, register_app_handler

    alice, bob = demo["alice"], demo["bob"]
    group = services.conversation_create_group(creator=alice, title="Going", member_ids=[bob.pk])
    kept = send(alice, to_user_id=bob.pk).message

    class Closing(AppHandler):
        """Deletes the conversation between the checks and the write."""

        app = "closing"

        def clean(self, body, *, sender, conversation):
            Conversation.objects.filter(pk=conversation.pk).delete()
            return body

    register_app_handler(Closing())
    try:
        gone, stays = message_send_many(
            [request(alice, conversation_id=group.pk, app="closing"), request(bob, conversation_id=kept.conversation_id)]
        )
    finally:
        app_handlers.unregister("closing")
    assert gone.code == "not_found"
    assert (stays.created, stays.message.seq) == (True, 2)
    assert stays.message.pk == Message.objects.get(conversation_id=kept.conversation_id, seq=2).pk


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_batches_written_at_once_to_the_same_conversations_keep_every_seq(pairs):
    """Writers on several connections (as on several workers) take turns on each
    conversation: no seq is taken twice or skipped, and none waits on another forever."""
    import random
    import threading

    from django.db import connections

    conversations = [
        Conversation.objects.get(direct_key=Conversation.direct_key_for(a.pk, b.pk)).pk for a, b in pairs[:6]
    ]
    senders = {c: a for c, (a, _b) in zip(conversations, pairs)}
    failures = []

    def writer(seed):
        shuffled = random.Random(seed)
        try:
            for _ in range(15):
                batch = [request(senders[c], conversation_id=c) for c in shuffled.sample(conversations, 4) * 2]
                outcomes = message_send_many(batch)
                failures.extend(o for o in outcomes if not isinstance(o, SendResult))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures and not any(t.is_alive() for t in threads)
    for conversation in Conversation.objects.filter(pk__in=conversations):
        seqs = list(Message.objects.filter(conversation=conversation).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, conversation.last_seq + 1))
    assert Message.objects.filter(conversation_id__in=conversations).count() == len(conversations) + 4 * 15 * 8


@either_way
def test_a_repeat_is_answered_with_the_stored_message_even_where_it_would_be_refused_now(demo, committed):
    from contacts.models import FriendRequest

    alice, carol = demo["alice"], demo["carol"]
    friendship = FriendRequest.objects.create(from_user=alice, to_user=carol, status="accepted")
    first = send(alice, to_user_id=carol.pk, client_id="once").message
    friendship.delete()
    again, fresh = message_send_many(
        [request(alice, to_user_id=carol.pk, client_id="once"), request(alice, to_user_id=carol.pk)]
    )
    assert (again.created, again.message.pk, again.message.seq) == (False, first.pk, 1)
    assert fresh.code == "not_permitted"
    assert Message.objects.count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_client_id_stored_by_another_connection_meanwhile_is_the_answer(demo):
    """Another worker stores the same (sender, client_id) while this batch is written,
    committing only once this batch's insert waits on it: the insert fails, the batch is
    written again one by one, and that send's answer is the one stored first; the others
    are stored, with their seqs in order."""
    import threading
    import time

    from django.db import connections, transaction

    from messaging.registry import AppHandler, app_handlers, register_app_handler

    alice, bob = demo["alice"], demo["bob"]
    conversation_id = send(alice, to_user_id=bob.pk).message.conversation_id
    elsewhere, stored_uncommitted = {}, threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                elsewhere["result"] = send(alice, conversation_id=conversation_id, client_id="raced")
                stored_uncommitted.set()
                time.sleep(0.5)  # meanwhile this batch's insert waits on the row
        finally:
            connections.close_all()

    class Racing(AppHandler):
        app = "racing"

        def clean(self, body, *, sender, conversation):
            threading.Thread(target=other_worker).start()
            assert stored_uncommitted.wait(10)
            return body

    register_app_handler(Racing())
    try:
        before, raced, after = message_send_many(
            [
                request(alice, conversation_id=conversation_id),
                request(alice, conversation_id=conversation_id, client_id="raced", app="racing"),
                request(bob, conversation_id=conversation_id),
            ]
        )
    finally:
        app_handlers.unregister("racing")
    assert (raced.created, raced.message.pk) == (False, elsewhere["result"].message.pk)
    assert before.created and after.created
    seqs = list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("seq", "client_id"))
    assert [seq for seq, _ in seqs] == [1, 2, 3, 4]
    assert seqs[1] == (2, "raced") and Conversation.objects.get(pk=conversation_id).last_seq == 4


def test_text_that_cannot_be_stored_is_refused_up_front(demo):
    """A lone UTF-16 surrogate, which JSON's escapes allow, is refused as invalid, in the
    body (values and keys) and in the client_id; a number past 64 bits likewise."""
    bob = demo["bob"].id
    for kwargs in [
        {"body": {"text": "a\ud800b"}},
        {"body": {"text": "ok", "\udfff": 1}},
        {"body": {"text": ["\ud83d"]}},
        {"client_id": "id-\ud800"},
    ]:
        with pytest.raises(ApplicationError) as error:
            send(demo["alice"], to_user_id=bob, **kwargs)
        assert error.value.code == "invalid", kwargs
    for target in [{"to_user_id": 2**63}, {"conversation_id": -(2**70)}]:
        with pytest.raises(ApplicationError) as error:
            send(demo["alice"], **target)
        assert error.value.code == "invalid"
    # A surrogate pair is an ordinary character (an emoji).
    assert send(demo["alice"], to_user_id=bob, body={"text": "\U0001f600"}).message.body["text"] == "\U0001f600"
    assert Message.objects.count() == 1


@either_way
def test_a_batch_whose_write_fails_is_written_again_without_the_guilty(demo, committed):
    """Whatever makes a batch's write fail, the others in it are stored and answered."""
    from messaging.registry import AppHandler, app_handlers, register_app_handler

    alice, bob = demo["alice"], demo["bob"]

    class Unstorable(AppHandler):
        """Passes the checks with a body that cannot be written."""

        app = "unstorable"

        def clean(self, body, *, sender, conversation):
            return {"text": "x", "tags": {"a set", "is not JSON"}}

    register_app_handler(Unstorable())
    try:
        before, guilty, after = message_send_many(
            [
                request(alice, to_user_id=bob.pk),
                request(alice, to_user_id=bob.pk, app="unstorable"),
                request(bob, to_user_id=alice.pk),
            ]
        )
    finally:
        app_handlers.unregister("unstorable")
    assert isinstance(guilty, TypeError)  # a fault of the app's, not the sender's
    assert (before.created, after.created) == (True, True)
    assert sorted(Message.objects.values_list("seq", flat=True)) == [1, 2]
