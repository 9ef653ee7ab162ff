"""What a send must pass before it is stored: the body, the app, the target, the rules.

``message_send_many`` (``service``) checks a whole batch with shared queries: each send's own
checks (:func:`send_checked`), then every target at once (:func:`targets_resolve`),
reading what the worker keeps while the policy version stays (``cache``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from contacts import policy
from core.errors import ApplicationError, json_strings, require_client_id, require_number

from ..models import Conversation, ConversationMember, Message
from ..registry import app_handlers, conversation_permitted_by_app
from .cache import send_cache

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool


@dataclass(frozen=True)
class SendRequest:
    """One message to send: what a ``send`` frame, a REST call or an app's service asks."""

    sender: User
    client_id: Any
    body: Any
    app: Any = "chat"
    conversation_id: Any = None
    to_user_id: Any = None
    origin: str | None = None
    #: False for an app's own services, which may send messages that clients may not
    #: (approval cards, say).
    from_client: bool = True
    #: The id of a message of the same conversation that this one answers.
    reply_to: Any = None
    #: The id of a message (of a conversation the sender is in) to send a copy of, in
    #: place of a body.
    forward: Any = None


@dataclass
class Send:
    """A request on its way through :func:`message_send_many`."""

    index: int
    request: SendRequest
    client_id: str
    body: dict[str, Any]
    handler: Any
    app: str = "chat"
    conversation: Conversation | None = None
    audience: list[int] = field(default_factory=list)
    #: The ids of the members the message mentions (``mentions``), once checked.
    mentions: list[int] = field(default_factory=list)
    #: Once stored: the message, and whether this send stored it (or found it stored).
    message: Message | None = None
    created: bool = True
    #: The message this one answers (``reply_to``), once checked.
    reply: Message | None = None
    #: A copy of another message (``forward``).
    forwarded: bool = False


@dataclass
class Target:
    """Where one sender wants to write: a conversation by id, or a person (``to``)."""

    sender: User
    conversation_id: Any
    to_user_id: Any
    app: str
    conversation: Conversation | None = None
    audience: list[int] = field(default_factory=list)
    other: User | None = None
    error: ApplicationError | None = None


def check_body(body: Any) -> dict[str, Any]:
    """The transport's only look at a body: an object of storable text, not too large."""
    if not isinstance(body, dict):
        raise ApplicationError(_("body must be a JSON object."), code="invalid")
    try:
        size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    except UnicodeEncodeError:
        # A lone surrogate: refused here, alone, before it can fail a batch's write.
        raise ApplicationError(_("The message contains text that is not valid Unicode."), code="invalid") from None
    if any("\x00" in text for text in json_strings(body)):
        # PostgreSQL cannot store NUL characters in JSON.
        raise ApplicationError(_("The message contains a NUL character."), code="invalid")
    if size > MAX_BODY_BYTES:
        raise ApplicationError(
            _("The message is too large (%(size)d bytes; at most %(max)d).")
            % {"size": size, "max": MAX_BODY_BYTES},
            code="too_large",
        )
    return body


def send_checked(index: int, request: SendRequest) -> Send:
    """The request's own checks, which need no query."""
    client_id = require_client_id(request.client_id)
    if request.reply_to is not None:
        require_number(request.reply_to, "reply_to")
    if request.forward is not None:
        require_number(request.forward, "forward")
        if request.body is not None:
            raise ApplicationError(_("A forward carries no body of its own."), code="invalid")
        # The body and the app are the original's (originals_resolve).
        return Send(index=index, request=request, client_id=client_id, body={}, handler=None, forwarded=True)
    body = check_body(request.body)
    if not isinstance(request.app, str):
        raise ApplicationError(_("app must be a string."), code="invalid")
    handler = app_handlers.get(request.app)
    if request.from_client and not handler.client_sendable:
        raise ApplicationError(
            _("Messages of %(app)r are sent by the application itself.") % {"app": request.app},
            code="not_permitted",
        )
    return Send(index=index, request=request, client_id=client_id, body=body, handler=handler, app=request.app)


def originals_resolve(sends: list[Send]) -> dict[int, ApplicationError]:
    """The messages that sends answer (``reply_to``) or forward, read in one query (none
    where no send names one); what refuses a send, by its index.

    A forward's original must be in a conversation the sender is a member of, not
    recalled, and of an app whose messages may be forwarded: the send takes its app and
    body (cleaned again by its app, as any body is, for its new conversation). A reply's
    original must not be recalled; that it is in the send's own conversation is checked
    once the target is known (:func:`reply_check`).
    """
    wanted = {s.request.reply_to for s in sends} | {s.request.forward for s in sends}
    wanted.discard(None)
    if not wanted:
        return {}
    originals = Message.objects.in_bulk(wanted)
    members = send_cache.conversations({m.conversation_id for m in originals.values()})
    errors: dict[int, ApplicationError] = {}
    for send in sends:
        if send.request.reply_to is not None:
            send.reply = originals.get(send.request.reply_to)
            if send.reply is not None and send.reply.recalled_at is not None:
                errors[send.index] = ApplicationError(_("That message was recalled."), code="conflict")
                continue
        if send.forwarded:
            original = originals.get(send.request.forward)
            _conversation, member_ids = members.get(original.conversation_id, (None, ())) if original else (None, ())
            if original is None or send.request.sender.pk not in member_ids:
                errors[send.index] = ApplicationError(_("No such message to forward."), code="not_found")
            elif original.recalled_at is not None:
                errors[send.index] = ApplicationError(_("That message was recalled."), code="conflict")
            elif original.app not in app_handlers or not app_handlers.get(original.app).forwardable:
                errors[send.index] = ApplicationError(
                    _("This kind of message cannot be forwarded."), code="not_permitted"
                )
            else:
                send.app, send.handler = original.app, app_handlers.get(original.app)
                send.body = dict(original.body)
    return errors


def reply_check(send: Send) -> None:
    """A reply answers a message of its own conversation (which its sender, a member,
    may read)."""
    if send.request.reply_to is not None and (send.reply is None or send.reply.conversation_id != send.conversation.pk):
        raise ApplicationError(_("No such message to reply to."), code="not_found")


def without_twins(sends: list[Send]) -> tuple[list[Send], list[tuple[int, int]]]:
    """Drop the repeats of others in this batch: the firsts, and the pairs (repeat's
    index, first's index)."""
    first: dict[tuple[int, str], int] = {}
    firsts, twins = [], []
    for send in sends:
        key = (send.request.sender.pk, send.client_id)
        if key in first:
            twins.append((send.index, first[key]))
        else:
            first[key] = send.index
            firsts.append(send)
    return firsts, twins


def conversation_get_or_create_direct(*, user: User, other_id: Any, app: str = "chat") -> Conversation:
    """The direct conversation of two people who may talk, created on first use."""
    return conversation_for_send(sender=user, conversation_id=None, to_user_id=other_id, app=app)


def direct_conversation(a_id: int, b_id: int) -> Conversation:
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


def conversation_for_send(*, sender: User, conversation_id: Any, to_user_id: Any, app: str) -> Conversation:
    return target_resolve(Target(sender, conversation_id, to_user_id, app)).conversation


def target_resolve(target: Target) -> Target:
    """One target, resolved as a send's (:func:`targets_resolve`), or its error raised."""
    (target,) = targets_resolve([target])
    if target.error is not None:
        raise target.error
    return target


@policy.one_policy_version()
def targets_resolve(targets: list[Target]) -> list[Target]:
    """Each target's conversation and audience (the members' ids), or why its sender may
    not write there; the checks of all of them share their queries, and what they read
    is kept by the worker while the policy version stays (``cache``).

    - ``to``: the person must be active and not the sender, and the two may talk (or the
      app permits it); their direct conversation is created on first use.
    - a conversation: the sender must be a member; in a direct one, the rules may have
      changed since it began, so the two must still be allowed to talk.
    """
    by_id: list[Target] = []
    by_person: list[Target] = []
    for target in targets:
        try:
            if (target.conversation_id is None) == (target.to_user_id is None):
                raise ApplicationError(_("Give either a conversation or a recipient (to)."), code="invalid")
            if target.to_user_id is not None:
                require_number(target.to_user_id, "user")
                by_person.append(target)
            else:
                require_number(target.conversation_id, "conversation")
                by_id.append(target)
        except ApplicationError as error:
            target.error = error

    conversations = send_cache.conversations(t.conversation_id for t in by_id)
    others: dict[int, int] = {}
    for target in by_id:
        conversation, members = conversations.get(target.conversation_id, (None, ()))
        if conversation is None or target.sender.pk not in members:
            target.error = ApplicationError(_("No such conversation."), code="not_found")
            continue
        target.conversation, target.audience = conversation, members
        if conversation.kind == Conversation.Kind.DIRECT:
            other_id = next((m for m in target.audience if m != target.sender.pk), None)
            if other_id is None:
                target.error = ApplicationError(_("You may no longer write to this person."), code="not_permitted")
            else:
                others[id(target)] = other_id

    people = send_cache.users({t.to_user_id for t in by_person} | set(others.values()))
    for target in by_person:
        other = people.get(target.to_user_id)
        if other is None or not other.is_active:
            target.error = ApplicationError(_("No such person."), code="not_found")
        elif other.pk == target.sender.pk:
            target.error = ApplicationError(_("You cannot open a conversation with yourself."), code="invalid")
        else:
            target.other = other
    for target in by_id:
        if id(target) in others:
            target.other = people.get(others[id(target)])
            if target.other is None:
                target.error = ApplicationError(_("You may no longer write to this person."), code="not_permitted")

    checked = [t for t in targets if t.error is None and t.other is not None]
    decisions = policy.may_talk_many([(t.sender, t.other) for t in checked]) if checked else []
    for target, allowed in zip(checked, decisions):
        if allowed or conversation_permitted_by_app(target.sender, target.other, app=target.app):
            continue
        if target.conversation is not None:
            target.error = ApplicationError(_("You may no longer write to this person."), code="not_permitted")
        else:
            target.error = ApplicationError(
                _("You may not start a conversation with %(name)s.") % {"name": target.other.name},
                code="not_permitted",
            )

    wanted = [t for t in by_person if t.error is None]
    keys = {Conversation.direct_key_for(t.sender.pk, t.other.pk) for t in wanted}
    existing = send_cache.direct(keys)
    for target in wanted:
        key = Conversation.direct_key_for(target.sender.pk, target.other.pk)
        if key not in existing:
            existing[key] = direct_conversation(target.sender.pk, target.other.pk)
        target.conversation, target.audience = existing[key], [target.sender.pk, target.other.pk]
    return targets


def conversation_access_for_send(*, user: User, conversation_id: Any, app: str) -> Conversation:
    """A conversation ``user`` may still send ``app`` messages to: the check a send makes,
    for an app that stores something for a message before sending it (a file, say)."""
    return conversation_for_send(sender=user, conversation_id=conversation_id, to_user_id=None, app=app)
