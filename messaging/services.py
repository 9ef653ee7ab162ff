"""Writes for messaging: conversations, sending, reading, editing; each publishes on commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contacts import policy
from contacts.models import Department, Membership
from imsite.errors import ApplicationError, is_number, require_client_id, require_number

from . import metrics
from .frames import message_frame, message_update_frame
from .models import Connection, Conversation, ConversationMember, Message
from .realtime import event, publish_on_commit
from .registry import app_handlers, conversation_permitted_by_app
from .selectors import conversation_access, conversation_member_ids, last_message_id_for_user

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool


def check_body(body: Any) -> dict[str, Any]:
    """The transport's only look at a body: it is an object, and not too large."""
    if not isinstance(body, dict):
        raise ApplicationError(_("body must be a JSON object."), code="invalid")
    if _contains_nul(body):
        # PostgreSQL cannot store NUL characters in JSON.
        raise ApplicationError(_("The message contains a NUL character."), code="invalid")
    size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_BODY_BYTES:
        raise ApplicationError(
            _("The message is too large (%(size)d bytes; at most %(max)d).")
            % {"size": size, "max": MAX_BODY_BYTES},
            code="too_large",
        )
    return body


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _user_get_active(user_id: Any) -> User:
    require_number(user_id, "user")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ApplicationError(_("No such person."), code="not_found")
    return user


# --- conversations --------------------------------------------------------------------


def conversation_get_or_create_direct(*, user: User, other_id: Any, app: str = "chat") -> Conversation:
    """The direct conversation of two people who may talk, created on first use."""
    other = _user_get_active(other_id)
    if other.pk == user.pk:
        raise ApplicationError(_("You cannot open a conversation with yourself."), code="invalid")
    if not _may_write(user, other, app=app):
        raise ApplicationError(
            _("You may not start a conversation with %(name)s.") % {"name": other.name},
            code="not_permitted",
        )
    return _direct_conversation(user.pk, other.pk)


def _may_write(user: User, other: User, *, app: str) -> bool:
    """The visibility rules, or an app's reason to let two people exchange its messages."""
    return policy.may_talk(user, other) or conversation_permitted_by_app(user, other, app=app)


def _direct_conversation(a_id: int, b_id: int) -> Conversation:
    key = Conversation.direct_key_for(a_id, b_id)
    conversation = Conversation.objects.filter(direct_key=key).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DIRECT, direct_key=key, created_by_id=a_id
            )
            ConversationMember.objects.bulk_create(
                [ConversationMember(conversation=conversation, user_id=uid) for uid in {a_id, b_id}]
            )
            return conversation
    except IntegrityError:  # created concurrently by the other side
        return Conversation.objects.get(direct_key=key)


@transaction.atomic
def conversation_create_group(*, creator: User, title: str, member_ids: list[Any]) -> Conversation:
    title = (title or "").strip()
    if not title:
        raise ApplicationError(_("A group needs a title."), code="invalid")
    if len(title) > 200:
        raise ApplicationError(_("A group title can have at most 200 characters."), code="invalid")
    if not isinstance(member_ids, list) or not all(is_number(m) for m in member_ids):
        raise ApplicationError(_("members must be a list of user ids."), code="invalid")
    wanted = set(member_ids) - {creator.pk}
    if not wanted:
        raise ApplicationError(_("A group needs at least one other member."), code="invalid")
    outsiders = wanted - policy.contact_ids(creator)
    if outsiders:
        raise ApplicationError(
            _("Groups can only be made with your contacts."), code="not_permitted", extra={"users": sorted(outsiders)}
        )
    conversation = Conversation.objects.create(kind=Conversation.Kind.GROUP, title=title, created_by=creator)
    ConversationMember.objects.bulk_create(
        [ConversationMember(conversation=conversation, user_id=uid) for uid in wanted | {creator.pk}]
    )
    return conversation


def _department_people(department: Department) -> set[int]:
    people = set(
        Membership.objects.filter(department=department, user__is_active=True).values_list("user_id", flat=True)
    )
    if department.manager_id:
        people.add(department.manager_id)
    return people


@transaction.atomic
def department_conversation_sync(*, department: Department) -> Conversation:
    """Keep a department's conversation and its members in step with the department."""
    conversation, _created = Conversation.objects.get_or_create(
        department=department,
        defaults={"kind": Conversation.Kind.DEPARTMENT, "title": department.name},
    )
    if conversation.title != department.name:
        conversation.title = department.name
        conversation.save(update_fields=["title"])
    wanted = _department_people(department)
    current = set(conversation.memberships.values_list("user_id", flat=True))
    if wanted - current:
        ConversationMember.objects.bulk_create(
            [ConversationMember(conversation=conversation, user_id=uid, last_read_seq=conversation.last_seq)
             for uid in wanted - current],
            ignore_conflicts=True,
        )
    if current - wanted:
        conversation.memberships.filter(user_id__in=current - wanted).delete()
    return conversation


def department_conversations_sync(*, department_ids: set[int] | None = None) -> int:
    departments = Department.objects.all()
    if department_ids:
        departments = departments.filter(pk__in=department_ids)
    count = 0
    for department in departments:
        department_conversation_sync(department=department)
        count += 1
    return count


# --- messages -------------------------------------------------------------------------


def _conversation_for_send(*, sender: User, conversation_id: Any, to_user_id: Any, app: str) -> Conversation:
    if (conversation_id is None) == (to_user_id is None):
        raise ApplicationError(_("Give either a conversation or a recipient (to)."), code="invalid")
    if to_user_id is not None:
        return conversation_get_or_create_direct(user=sender, other_id=to_user_id, app=app)
    conversation = conversation_access(user=sender, conversation_id=conversation_id)
    if conversation.kind == Conversation.Kind.DIRECT:
        # The rules may have changed since the conversation began.
        other_id = next((m for m in conversation_member_ids(conversation.pk) if m != sender.pk), None)
        other = User.objects.filter(pk=other_id).first() if other_id else None
        if other is None or not _may_write(sender, other, app=app):
            raise ApplicationError(_("You may no longer write to this person."), code="not_permitted")
    return conversation


def conversation_access_for_send(*, user: User, conversation_id: Any, app: str) -> Conversation:
    """A conversation ``user`` may still send ``app`` messages to: the check a send makes,
    for an app that stores something for a message before sending it (a file, say)."""
    return _conversation_for_send(sender=user, conversation_id=conversation_id, to_user_id=None, app=app)


def message_send(
    *,
    sender: User,
    client_id: Any,
    body: Any,
    app: Any = "chat",
    conversation_id: Any = None,
    to_user_id: Any = None,
    origin: str | None = None,
    from_client: bool = True,
) -> SendResult:
    """Store a message and deliver it to every connection of every member.

    Idempotent by ``(sender, client_id)``: a repeat returns the first message and stores
    nothing. Returns only after commit, so an ack built from the result is truthful.
    ``from_client=False`` is for an app's own services, which may send messages that
    clients may not (approval cards, say).
    """
    client_id = require_client_id(client_id)
    body = check_body(body)
    if not isinstance(app, str):
        raise ApplicationError(_("app must be a string."), code="invalid")
    handler = app_handlers.get(app)
    if from_client and not handler.client_sendable:
        raise ApplicationError(
            _("Messages of %(app)r are sent by the application itself.") % {"app": app}, code="not_permitted"
        )

    existing = Message.objects.filter(sender=sender, client_id=client_id).first()
    if existing is not None:
        return SendResult(existing, created=False)

    conversation = _conversation_for_send(
        sender=sender, conversation_id=conversation_id, to_user_id=to_user_id, app=app
    )
    body = handler.clean(body, sender=sender, conversation=conversation)
    try:
        message = _message_store(conversation=conversation, sender=sender, app=app, body=body, client_id=client_id, origin=origin)
    except IntegrityError:
        # The same client_id raced in on another connection; the first one stands.
        existing = Message.objects.filter(sender=sender, client_id=client_id).first()
        if existing is None:
            raise
        return SendResult(existing, created=False)
    return SendResult(message, created=True)


@transaction.atomic
def _message_store(
    *, conversation: Conversation, sender: User, app: str, body: dict, client_id: str, origin: str | None
) -> Message:
    # The row lock serialises senders in one conversation, so seqs are gap-free: a
    # rolled-back send gives its number back.
    locked = Conversation.objects.select_for_update().only("id", "last_seq").get(pk=conversation.pk)
    seq = locked.last_seq + 1
    now = timezone.now()
    message = Message.objects.create(
        conversation_id=conversation.pk,
        seq=seq,
        sender=sender,
        app=app,
        body=body,
        client_id=client_id,
        created_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=seq, last_message_at=now)
    ConversationMember.objects.filter(conversation_id=conversation.pk, user=sender).update(last_read_seq=seq)
    members = conversation_member_ids(conversation.pk)
    publish_on_commit(members, event("message.new", message_frame(message), origin=origin, id=message.pk))
    handler = app_handlers.get(app)
    transaction.on_commit(lambda: handler.on_stored(message), robust=True)
    transaction.on_commit(lambda: metrics.MESSAGES_STORED.labels(app=app).inc())
    return message


def _message_for_author(*, user: User, message_id: Any, window_seconds: int) -> Message:
    message = Message.objects.select_for_update().filter(pk=message_id).first() if is_number(message_id) else None
    if message is None or not ConversationMember.objects.filter(
        conversation_id=message.conversation_id, user=user
    ).exists():
        raise ApplicationError(_("No such message."), code="not_found")
    if message.sender_id != user.pk:
        raise ApplicationError(_("Only the sender can change a message."), code="not_permitted")
    if message.recalled_at is not None:
        raise ApplicationError(_("This message was recalled."), code="conflict")
    if timezone.now() - message.created_at > timedelta(seconds=window_seconds):
        raise ApplicationError(
            _("Messages can only be changed within %(minutes)d minutes of sending.")
            % {"minutes": max(1, window_seconds // 60)},
            code="not_permitted",
        )
    return message


@transaction.atomic
def message_edit(*, user: User, message_id: Any, body: Any) -> Message:
    message = _message_for_author(
        user=user, message_id=message_id, window_seconds=settings.MESSAGE_EDIT_WINDOW_SECONDS
    )
    handler = app_handlers.get(message.app)
    if not handler.editable:
        raise ApplicationError(_("This kind of message cannot be edited."), code="not_permitted")
    message.body = handler.clean(check_body(body), sender=user, conversation=message.conversation)
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    publish_on_commit(
        conversation_member_ids(message.conversation_id), event("message.update", message_update_frame(message))
    )
    return message


@transaction.atomic
def message_recall(*, user: User, message_id: Any) -> Message:
    message = _message_for_author(
        user=user, message_id=message_id, window_seconds=settings.MESSAGE_RECALL_WINDOW_SECONDS
    )
    message.body = {}
    message.recalled_at = timezone.now()
    message.save(update_fields=["body", "recalled_at"])
    publish_on_commit(
        conversation_member_ids(message.conversation_id), event("message.update", message_update_frame(message))
    )
    return message


# --- reading, typing, signalling ------------------------------------------------------------


def conversation_mark_read(*, user: User, conversation_id: Any, seq: Any, origin: str | None = None) -> int:
    """Move my read position forward (never back) and tell the other members."""
    require_number(seq, "seq", minimum=0)
    conversation = conversation_access(user=user, conversation_id=conversation_id)
    seq = min(seq, conversation.last_seq)
    with transaction.atomic():
        updated = ConversationMember.objects.filter(
            conversation=conversation, user=user, last_read_seq__lt=seq
        ).update(last_read_seq=seq)
        if updated:
            frame = {"type": "receipt", "conversation": conversation.pk, "user": user.pk, "seq": seq}
            publish_on_commit(conversation_member_ids(conversation.pk), event("receipt.new", frame, origin=origin))
    return max(seq, ConversationMember.objects.get(conversation=conversation, user=user).last_read_seq)


def typing_notify(*, user: User, conversation_id: Any, origin: str | None = None) -> None:
    conversation = conversation_access(user=user, conversation_id=conversation_id)
    others = [uid for uid in conversation_member_ids(conversation.pk) if uid != user.pk]
    frame = {"type": "typing", "conversation": conversation.pk, "user": user.pk}
    publish_on_commit(others, event("typing.new", frame, origin=origin))


def signal_relay(*, sender: User, to_user_id: Any, data: Any, origin: str | None = None) -> None:
    """Relay P2P signalling (offer, answer, ICE candidate) to someone the sender may talk to."""
    if not isinstance(data, dict):
        raise ApplicationError(_("data must be a JSON object."), code="invalid")
    check_body(data)
    other = _user_get_active(to_user_id)
    if other.pk == sender.pk or not policy.may_talk(sender, other):
        raise ApplicationError(_("You may not signal this person."), code="not_permitted")
    publish_on_commit([other.pk], event("signal.new", {"type": "signal", "from": sender.pk, "data": data}, origin=origin))


# --- connections ----------------------------------------------------------------------


def connection_open(
    *, user: User, channel_name: str, worker: str, client: Any, user_agent: str, auth: str
) -> dict[str, Any]:
    """Record a new connection (the paper's login registration) and return its ``hello``."""
    address, port = (list(client or []) + [None, None])[:2]
    Connection.objects.create(
        user=user,
        channel_name=channel_name,
        worker=worker,
        remote_address=address,
        remote_port=port,
        user_agent=user_agent[:300],
        auth=auth,
    )
    return {
        "type": "hello",
        "user": {"id": user.pk, "username": user.username, "display_name": user.name},
        "server": worker,
        "last_message_id": last_message_id_for_user(user=user),
    }


def connection_close(*, channel_name: str) -> None:
    Connection.objects.filter(channel_name=channel_name, closed_at__isnull=True).update(closed_at=timezone.now())
