"""Who is pushed for a new message, what the push says, and the request to the push
service (docs/mobile.md, Notifications).

A person is pushed when none of their sockets is online (closed, or every one of them
"away": hidden or idle for five minutes, messaging.realtime.presence), for a message in a
conversation they have not muted, for one that mentions them even where they have, and
for a message that asks them to act (an approval waiting for them, an announcement to
confirm: ``messaging.registry.action_url``).

Bursts collapse per conversation and person: the first message pushes at once and opens a
window of PUSH_COLLAPSE_SECONDS; messages within it are not pushed one by one, but a
single follow-up at the window's end pushes the latest of them (with how many there were)
under the same ``Topic`` and notification ``tag``, so it replaces the first on the device
and in the push service's queue. Messages that ask someone to act are never held back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from messaging.models import Conversation, ConversationMember, Message, MessageMention
from messaging.realtime.presence import ONLINE, statuses_now
from messaging.registry import action_url, message_preview

from .keys import vapid
from .models import PushSubscription

logger = logging.getLogger(__name__)

MAX_TITLE = 100
MAX_BODY = 200
# Well under what every push service takes (4,096 bytes encrypted).
MAX_PAYLOAD_BYTES = 3000


@dataclass(frozen=True)
class Push:
    title: str
    body: str
    url: str
    tag: str
    # The Web Push ``Topic`` header (at most 32 base64url characters): the push service
    # keeps only the newest undelivered push of a topic.
    topic: str
    urgency: str = "normal"

    def payload(self) -> bytes:
        data = {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag}
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        assert len(encoded) <= MAX_PAYLOAD_BYTES
        return encoded


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def conversation_tag(conversation_id: int) -> str:
    """The notification tag of a conversation: the chat's own desktop notifications use it
    too (messaging/static/messaging/incoming.js), so each replaces the other."""
    return f"switchboard-conversation-{conversation_id}"


def conversation_url(conversation_id: int) -> str:
    return f"/chat/#conversation-{conversation_id}"


def push_for(*, user: User, message: Message, count: int = 1, url: str | None = None, urgent: bool = False) -> Push:
    """What a push of ``message`` says to ``user``, in their language: who sent it and where,
    and a short preview; only "New message" when they hide previews. ``url`` (a page
    where the message asks them to act) gives the push a tag and topic of its own."""
    conversation = message.conversation
    with translation.override(user.language or settings.LANGUAGE_CODE):
        if user.hide_notification_previews:
            title = "Switchboard"
            body = (
                ngettext("%(count)d new message", "%(count)d new messages", count) % {"count": count}
                if count > 1
                else _("New message")
            )
        else:
            name = message.sender.name
            if conversation.kind == Conversation.Kind.DIRECT:
                title = name
            else:
                title = _("%(name)s in %(conversation)s") % {
                    "name": name,
                    "conversation": conversation.title or _("a group"),
                }
            body = message_preview(message)
            if count > 1:
                body = ngettext(
                    "%(count)d new message · %(preview)s", "%(count)d new messages · %(preview)s", count
                ) % {"count": count, "preview": body}
    if url:
        tag, topic = f"switchboard-message-{message.pk}", f"m{message.pk}"
    else:
        tag, topic, url = conversation_tag(conversation.pk), f"c{conversation.pk}", conversation_url(conversation.pk)
    return Push(
        title=_clip(title, MAX_TITLE),
        body=_clip(body, MAX_BODY),
        url=url,
        tag=tag,
        topic=topic[:32],
        urgency="high" if urgent else "normal",
    )


# --- Sending --------------------------------------------------------------------------


def _session() -> requests.Session:
    session = requests.Session()
    # A push service answers; it never redirects. Refusing redirects keeps the POST where
    # the browser's subscription said.
    session.max_redirects = 0
    session.trust_env = False
    return session


def send(subscription: PushSubscription, push: Push, *, session: requests.Session | None = None) -> bool:
    """POST one push to one device's push service (VAPID-signed, the payload encrypted
    aes128gcm for that browser, RFC 8291). A ``404`` or ``410`` answer means the
    subscription is gone: it is deleted. Any other failure counts; after PUSH_MAX_FAILURES
    in a row the subscription is dropped."""
    from pywebpush import WebPushException, webpush

    try:
        webpush(
            subscription.info(),
            data=push.payload(),
            vapid_private_key=vapid(),
            # A fresh dict each time: pywebpush fills in `aud` (the endpoint's origin) and
            # `exp` (12 hours ahead).
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            content_encoding="aes128gcm",
            ttl=settings.PUSH_TTL_SECONDS,
            timeout=settings.PUSH_TIMEOUT_SECONDS,
            headers={"Topic": push.topic, "Urgency": push.urgency},
            requests_session=session or _session(),
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            logger.info("Push subscription %s is gone (%s): deleted", subscription.pk, status)
            subscription.delete()
            return False
        _failed(subscription, f"{status}")
        return False
    except requests.RequestException as error:
        _failed(subscription, error.__class__.__name__)
        return False
    PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now(), failures=0)
    return True


def _failed(subscription: PushSubscription, why: str) -> None:
    PushSubscription.objects.filter(pk=subscription.pk).update(failures=F("failures") + 1)
    dropped, _rows = PushSubscription.objects.filter(
        pk=subscription.pk, failures__gte=settings.PUSH_MAX_FAILURES
    ).delete()
    logger.warning("Push to subscription %s failed (%s)%s", subscription.pk, why, "; dropped" if dropped else "")


def send_to_user(user: User, push: Push) -> int:
    """Push to every device of ``user``; returns how many took it."""
    session = _session()
    delivered = 0
    for subscription in PushSubscription.objects.filter(user=user):
        delivered += send(subscription, push, session=session)
    return delivered


# --- Deciding -------------------------------------------------------------------------


def _window_key(user_id: int, conversation_id: int) -> str:
    return f"push:window:{user_id}:{conversation_id}"


def _later_key(user_id: int, conversation_id: int) -> str:
    return f"push:later:{user_id}:{conversation_id}"


def _pushed_key(user_id: int, conversation_id: int) -> str:
    return f"push:pushed:{user_id}:{conversation_id}"


def _pushed(user_id: int, conversation_id: int, seq: int) -> None:
    """Remember how far this person was pushed in this conversation (the follow-up starts after it)."""
    cache.set(_pushed_key(user_id, conversation_id), seq, timeout=settings.PUSH_COLLAPSE_SECONDS * 6 + 60)


def _window_open(user_id: int, conversation_id: int) -> bool:
    """Whether a push for this conversation may go now: no other went in the window. Else
    one follow-up is scheduled for the window's end (unless one is already)."""
    window = settings.PUSH_COLLAPSE_SECONDS
    if window <= 0 or cache.add(_window_key(user_id, conversation_id), 1, timeout=window):
        return True
    if cache.add(_later_key(user_id, conversation_id), 1, timeout=window * 3 + 60):
        from .tasks import followup

        followup.apply_async((user_id, conversation_id), countdown=window)
    return False


def online_ids(user_ids: list[int]) -> set[int]:
    return {uid for uid, status in statuses_now(sorted(user_ids)).items() if status == ONLINE}


def message_notify(message_id: int, user_ids: list[int]) -> int:
    """Push ``message`` to those of ``user_ids`` who should hear of it; returns how many
    people were pushed."""
    message = (
        Message.objects.select_related("conversation", "sender")
        .filter(pk=message_id, recalled_at__isnull=True)
        .first()
    )
    if message is None:
        return 0
    members = {
        member.user_id: member
        for member in ConversationMember.objects.select_related("user").filter(
            conversation_id=message.conversation_id, user_id__in=user_ids, user__is_active=True
        ).exclude(user_id=message.sender_id)
    }
    act_url = action_url(message)
    mentioned = set(message.mentions or ())
    wanted = {
        uid: member
        for uid, member in members.items()
        if member.last_read_seq < message.seq and (act_url or not member.muted or uid in mentioned)
    }
    if not wanted:
        return 0
    online = online_ids(list(wanted))
    pushed = 0
    for uid, member in wanted.items():
        if uid in online:
            continue
        if act_url:
            push = push_for(user=member.user, message=message, url=act_url, urgent=True)
        else:
            if not _window_open(uid, message.conversation_id):
                continue
            _pushed(uid, message.conversation_id, message.seq)
            push = push_for(user=member.user, message=message, urgent=uid in mentioned)
        pushed += bool(send_to_user(member.user, push))
    return pushed


def followup(user_id: int, conversation_id: int) -> bool:
    """At the end of a window: one push for what arrived in it and was not pushed, the
    latest message with how many there were, if this person has not read them meanwhile
    and is still not online. It opens the next window."""
    window = settings.PUSH_COLLAPSE_SECONDS
    cache.set(_window_key(user_id, conversation_id), 1, timeout=max(window, 1))
    cache.delete(_later_key(user_id, conversation_id))
    member = (
        ConversationMember.objects.select_related("user")
        .filter(conversation_id=conversation_id, user_id=user_id, user__is_active=True)
        .first()
    )
    if member is None:
        return False
    after = max(member.last_read_seq, cache.get(_pushed_key(user_id, conversation_id)) or 0)
    if member.muted:
        seqs = MessageMention.objects.filter(user_id=user_id, conversation_id=conversation_id, seq__gt=after)
        messages = Message.objects.filter(
            conversation_id=conversation_id, seq__in=seqs.values("seq"), recalled_at__isnull=True
        )
    else:
        messages = Message.objects.filter(conversation_id=conversation_id, seq__gt=after, recalled_at__isnull=True)
    messages = messages.exclude(sender_id=user_id)
    latest = messages.select_related("conversation", "sender").order_by("-seq").first()
    if latest is None or user_id in online_ids([user_id]):
        return False
    count = messages.count()
    mentioned = MessageMention.objects.filter(
        user_id=user_id, conversation_id=conversation_id, seq__gt=after
    ).exists()
    _pushed(user_id, conversation_id, latest.seq)
    return bool(send_to_user(member.user, push_for(user=member.user, message=latest, count=count, urgent=mentioned)))
