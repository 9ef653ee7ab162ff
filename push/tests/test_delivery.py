"""Who is pushed for what, and what the push says: through the real pipeline (messaging's
``message.stored`` event, the Celery tasks run eagerly, pywebpush) to the test push
service on loopback, each push checked (VAPID) and decrypted as a browser would."""

from __future__ import annotations

import uuid

import pytest

from apps_announcements import services as announcements
from apps_approval import services as approvals
from messaging import services as messaging
from messaging.models import Conversation, Message
from messaging.send import message_send
from push import tasks
from push.models import PushSubscription

from .conftest import socket

pytestmark = pytest.mark.django_db


@pytest.fixture
def say(django_capture_on_commit_callbacks):
    """A chat message, its after-commit events run (so its pushes go out)."""

    def run(sender, text, **target) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            result = message_send(sender=sender, client_id=uuid.uuid4().hex, body={"text": text}, **target)
        return result.message

    return run


@pytest.fixture
def followups(monkeypatch):
    """The follow-ups scheduled at a window's end, recorded instead of run: in tests Celery
    runs eagerly and would run them at once, whatever their countdown."""
    scheduled = []
    monkeypatch.setattr(tasks.followup, "apply_async", lambda args, countdown: scheduled.append((args, countdown)))
    return scheduled


def dev() -> Conversation:
    return Conversation.objects.get(department__code="dev")


def test_a_message_to_someone_with_no_socket_open_is_pushed_signed_and_encrypted(demo, subscribe, say):
    bob = subscribe(demo["bob"])
    message = say(demo["alice"], "Lunch at noon?", to_user_id=demo["bob"].id)
    [push] = bob.pushes()
    conversation = message.conversation_id
    assert push["title"] == "Alice Wang"
    assert push["body"] == "Lunch at noon?"
    assert push["url"] == f"/chat/#conversation-{conversation}"
    assert push["tag"] == f"switchboard-conversation-{conversation}"
    headers = push["_headers"]
    assert headers["topic"] == f"c{conversation}" and headers["urgency"] == "normal"
    assert headers["ttl"] == "86400"
    assert PushSubscription.objects.get(endpoint=bob.endpoint).last_success_at is not None


def test_the_sender_and_people_without_a_subscription_are_not_pushed(demo, subscribe, say, push_service):
    alice = subscribe(demo["alice"])
    say(demo["alice"], "hello", to_user_id=demo["bob"].id)
    assert alice.pushes() == [] and push_service.received == []


def test_no_push_while_a_socket_is_open_and_one_once_every_socket_is_away(demo, subscribe, say):
    bob = subscribe(demo["bob"])
    socket(demo["bob"], "online", "tab-1")
    say(demo["alice"], "you there?", to_user_id=demo["bob"].id)
    assert bob.pushes() == []
    # Two sockets, both hidden or idle for a while ("away"): nobody is looking.
    socket(demo["bob"], "away", "tab-1")
    socket(demo["bob"], "away", "tab-2")
    say(demo["alice"], "ping", to_user_id=demo["bob"].id)
    assert [push["body"] for push in bob.pushes()] == ["ping"]
    # One of them active again: no push.
    socket(demo["bob"], "online", "tab-2")
    say(demo["dev_lead"], "later", to_user_id=demo["bob"].id)
    assert len(bob.pushes()) == 1


def test_a_muted_conversation_is_silent_but_a_mention_in_it_pushes_urgently(demo, subscribe, say):
    bob = subscribe(demo["bob"])
    messaging.conversation_settings_set(user=demo["bob"], conversation_id=dev().pk, muted=True)
    say(demo["alice"], "stand-up moved to 10:30", conversation_id=dev().pk)
    assert bob.pushes() == []
    say(demo["alice"], "@bob can you review?", conversation_id=dev().pk)
    [push] = bob.pushes()
    assert push["title"] == "Alice Wang in Development"
    assert push["body"] == "@bob can you review?"
    assert push["_headers"]["urgency"] == "high" and push["_headers"]["topic"] == f"c{dev().pk}"


def test_an_approval_waiting_for_someone_pushes_them_at_once_even_where_muted(demo, subscribe, say, followups, django_capture_on_commit_callbacks):
    lead = subscribe(demo["dev_lead"])
    first = say(demo["alice"], "I'll file my leave", to_user_id=demo["dev_lead"].id)
    messaging.conversation_settings_set(user=demo["dev_lead"], conversation_id=first.conversation_id, muted=True)
    with django_capture_on_commit_callbacks(execute=True):
        approval, _created = approvals.approval_submit(
            requester=demo["alice"], template_code="leave", client_id=uuid.uuid4().hex,
            data={"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-02", "reason": "Family visit"},
        )
    chat, card = lead.pushes()
    assert chat["body"] == "I'll file my leave"
    # Within the conversation's window and muted, yet pushed at once, with its own tag and topic.
    card_message = Message.objects.get(app="approval", conversation_id=first.conversation_id)
    assert card["url"] == f"/approvals/{approval.pk}/"
    assert card["title"] == "Alice Wang" and card["body"] == "[Approval] Leave"
    assert card["tag"] == f"switchboard-message-{card_message.pk}"
    assert card["_headers"]["urgency"] == "high" and card["_headers"]["topic"] == f"m{card_message.pk}"
    assert followups == []


def test_an_announcement_asking_for_confirmation_pushes_its_page(demo, subscribe, django_capture_on_commit_callbacks):
    bob = subscribe(demo["bob"])
    with django_capture_on_commit_callbacks(execute=True):
        announcement, _created = announcements.announcement_publish(
            author=demo["erin"], title="New security policy", body="Please read and confirm.",
            audience={"departments": ["dev"]}, client_id=uuid.uuid4().hex, requires_confirmation=True,
        )
    [push] = bob.pushes()
    assert push["url"] == f"/announcements/{announcement.pk}/"
    assert push["body"] == "[Announcement] New security policy"
    assert push["_headers"]["urgency"] == "high"


def test_hide_previews_leaves_out_the_sender_and_the_text(demo, subscribe, say):
    bob = subscribe(demo["bob"])
    demo["bob"].hide_notification_previews = True
    demo["bob"].save(update_fields=["hide_notification_previews"])
    message = say(demo["alice"], "the launch code is 1234", to_user_id=demo["bob"].id)
    [push] = bob.pushes()
    assert (push["title"], push["body"]) == ("Switchboard", "New message")
    assert push["url"] == f"/chat/#conversation-{message.conversation_id}"
    assert "1234" not in str(push) and "Alice" not in str(push)


def test_a_push_speaks_the_recipients_language(demo, subscribe, say):
    bob = subscribe(demo["bob"])
    demo["bob"].language, demo["bob"].hide_notification_previews = "zh-hans", True
    demo["bob"].save(update_fields=["language", "hide_notification_previews"])
    say(demo["alice"], "hi", to_user_id=demo["bob"].id)
    assert bob.pushes()[0]["body"] == "新消息"


def test_a_burst_gives_one_push_per_conversation_then_one_follow_up_with_the_latest(demo, subscribe, say, followups):
    bob = subscribe(demo["bob"])
    burst = [say(demo["alice"], f"line {n}", to_user_id=demo["bob"].id) for n in range(1, 6)]
    conversation = burst[0].conversation_id
    other = say(demo["dev_lead"], "separately", to_user_id=demo["bob"].id)
    pushes = bob.pushes()
    assert [(p["body"], p["_headers"]["topic"]) for p in pushes] == [
        ("line 1", f"c{conversation}"),
        ("separately", f"c{other.conversation_id}"),
    ]
    # One follow-up for the burst, at the window's end; none for a conversation with one message.
    assert followups == [((demo["bob"].id, conversation), 10)]
    # It pushes the latest message, with how many came, replacing the first (same tag and topic).
    assert tasks.followup(demo["bob"].id, conversation) is True
    last = bob.pushes()[-1]
    assert last["body"] == "4 new messages · line 5"
    assert last["tag"] == pushes[0]["tag"] and last["_headers"]["topic"] == f"c{conversation}"
    # Nothing new since: a second follow-up says nothing.
    assert tasks.followup(demo["bob"].id, conversation) is False
    assert len(bob.pushes()) == 3


def test_a_follow_up_is_dropped_once_the_messages_are_read(demo, subscribe, say, followups):
    bob = subscribe(demo["bob"])
    first = say(demo["alice"], "one", to_user_id=demo["bob"].id)
    second = say(demo["alice"], "two", to_user_id=demo["bob"].id)
    messaging.conversation_mark_read(user=demo["bob"], conversation_id=first.conversation_id, seq=second.seq)
    assert tasks.followup(demo["bob"].id, first.conversation_id) is False
    assert [p["body"] for p in bob.pushes()] == ["one"]


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_no_longer_knows_is_deleted(demo, subscribe, say, push_service, status):
    bob = subscribe(demo["bob"])
    kept = subscribe(demo["bob"])
    push_service.status[bob.endpoint.removeprefix(push_service.origin)] = status
    say(demo["alice"], "still there?", to_user_id=demo["bob"].id)
    assert not PushSubscription.objects.filter(endpoint=bob.endpoint).exists()
    assert [p["body"] for p in kept.pushes()] == ["still there?"]


def test_other_failures_are_counted_and_drop_the_subscription_after_several(demo, subscribe, say, push_service, settings):
    settings.PUSH_COLLAPSE_SECONDS = 0  # every message pushes
    bob = subscribe(demo["bob"])
    push_service.status[bob.endpoint.removeprefix(push_service.origin)] = 500
    say(demo["alice"], "1", to_user_id=demo["bob"].id)
    say(demo["alice"], "2", to_user_id=demo["bob"].id)
    assert PushSubscription.objects.get(endpoint=bob.endpoint).failures == 2
    say(demo["alice"], "3", to_user_id=demo["bob"].id)  # the third in a row (PUSH_MAX_FAILURES)
    assert not PushSubscription.objects.filter(endpoint=bob.endpoint).exists()


def test_a_success_clears_the_failures(demo, subscribe, say, push_service, settings):
    settings.PUSH_COLLAPSE_SECONDS = 0
    bob = subscribe(demo["bob"])
    path = bob.endpoint.removeprefix(push_service.origin)
    push_service.status[path] = 503
    say(demo["alice"], "1", to_user_id=demo["bob"].id)
    del push_service.status[path]
    say(demo["alice"], "2", to_user_id=demo["bob"].id)
    assert PushSubscription.objects.get(endpoint=bob.endpoint).failures == 0


def test_an_unreachable_push_service_counts_as_a_failure(demo, subscribe, say, settings):
    settings.PUSH_TIMEOUT_SECONDS = 2
    bob = subscribe(demo["bob"])
    PushSubscription.objects.filter(endpoint=bob.endpoint).update(endpoint="http://127.0.0.1:9/push/closed")
    say(demo["alice"], "hello", to_user_id=demo["bob"].id)
    assert PushSubscription.objects.get(endpoint="http://127.0.0.1:9/push/closed").failures == 1


@pytest.mark.django_db(transaction=True)
def test_the_send_path_hands_pushes_to_a_thread_which_pushes_within_moments(demo, subscribe, say):
    import time

    from push.services import pushes

    bob = subscribe(demo["bob"])
    pushes.mode = "thread"
    message = say(demo["alice"], "From the thread", to_user_id=demo["bob"].id)
    deadline = time.monotonic() + 5
    while not bob.pushes():
        assert time.monotonic() < deadline, "no push within 5 s"
        time.sleep(0.05)
    [push] = bob.pushes()
    assert push["body"] == "From the thread" and push["tag"] == f"switchboard-conversation-{message.conversation_id}"
