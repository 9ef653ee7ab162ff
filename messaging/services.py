"""Writes for messaging besides sending (``messaging.send``): conversations, edits and
recalls, read positions, typing, signalling, connections; each publishes on commit."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import session_tag
from contacts import policy
from contacts.models import Department, Membership
from core import bus
from core.errors import ApplicationError, is_number, is_storable_text, require_number

from . import metrics

from .handlers import GROUP_APP
from .frames import (
    conversation_update_frame,
    hello_frame,
    message_update_frame,
    receipt_frame,
    signal_frame,
    typing_frame,
)
from .models import Connection, Conversation, ConversationMember, Message, MessageMention, MessageReaction
from .realtime.publish import event, publish_on_commit
from .registry import app_handlers
from .selectors import (
    conversation_access,
    conversation_member_ids,
    last_message_id_for_user,
    reaction_counts,
    reactions_attach,
)
from .send.checks import Send, SendRequest, Target, check_body, target_resolve
from .send.mentions import mentions_resolve
from .send.service import message_send

def _user_get_active(user_id: Any) -> User:
    require_number(user_id, "user")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ApplicationError(_("No such person."), code="not_found")
    return user


# --- conversations --------------------------------------------------------------------


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
    if len(wanted) + 1 > settings.GROUP_MAX_MEMBERS:
        raise ApplicationError(
            _("A group can have at most %(n)d members.") % {"n": settings.GROUP_MAX_MEMBERS}, code="too_large"
        )
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


# --- changing a message, reading, typing, signalling ---------------------------------------


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
    # Changing what others read is writing to them: only where a send would be accepted.
    target = target_resolve(Target(user, message.conversation_id, None, message.app))
    message.body = handler.clean(check_body(body), sender=user, conversation=message.conversation)
    message.edited_at = timezone.now()
    # Its mentions are read again from the new text (a forward's copy mentions no one).
    if not message.forwarded:
        edit = Send(index=0, request=SendRequest(sender=user, client_id=message.client_id, body=message.body),
                    client_id=message.client_id, body=message.body, handler=handler, app=message.app,
                    conversation=target.conversation, audience=target.audience)  # fmt: skip
        mentions_resolve([edit])
        if edit.mentions != message.mentions:
            message.mentions = edit.mentions
            MessageMention.objects.filter(message=message).delete()
            MessageMention.objects.bulk_create(
                [MessageMention(message=message, user_id=uid, conversation_id=message.conversation_id, seq=message.seq)
                 for uid in edit.mentions]
            )  # fmt: skip
    message.save(update_fields=["body", "edited_at", "mentions"])
    publish_on_commit(
        conversation_member_ids(message.conversation_id),
        event("message.update", message_update_frame(message, mentions=message.mentions)),
    )
    bus.publish_on_commit("message.changed", {"ids": [message.pk]})
    return message


@transaction.atomic
def message_recall(*, user: User, message_id: Any) -> Message:
    message = _message_for_author(
        user=user, message_id=message_id, window_seconds=settings.MESSAGE_RECALL_WINDOW_SECONDS
    )
    if message.app in app_handlers and not app_handlers.get(message.app).client_sendable:
        # What an app sent for its own part (an approval card, a group change) stands.
        raise ApplicationError(_("This kind of message cannot be recalled."), code="not_permitted")
    message.body = {}
    message.recalled_at = timezone.now()
    # A recalled message mentions no one any more.
    message.mentions = []
    message.save(update_fields=["body", "recalled_at", "mentions"])
    MessageMention.objects.filter(message=message).delete()
    # Nor do reactions stay on what is gone.
    reactions = [] if MessageReaction.objects.filter(message=message).delete()[0] else None
    publish_on_commit(
        conversation_member_ids(message.conversation_id),
        event("message.update", message_update_frame(message, reactions=reactions)),
    )
    bus.publish_on_commit("message.changed", {"ids": [message.pk]})
    return message


def message_react(*, user: User, message_id: Any, emoji: Any, on: Any) -> list[dict]:
    """Give (``on``) or take back a reaction to a message of a conversation where ``user``
    may write; every member hears the new counts and whose reaction changed
    (``message_update``), the reacting connection too (its answer). Returns the
    message's reactions as ``user`` sees them."""
    require_number(message_id, "message")
    if emoji not in MessageReaction.EMOJI:
        raise ApplicationError(
            _("emoji must be one of %(emoji)s.") % {"emoji": " ".join(MessageReaction.EMOJI)}, code="invalid"
        )
    if not isinstance(on, bool):
        raise ApplicationError(_("on must be true or false."), code="invalid")
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        raise ApplicationError(_("No such message."), code="not_found")
    try:
        # A member, and where a chat message from them would be accepted.
        target_resolve(Target(user, message.conversation_id, None, "chat"))
    except ApplicationError as error:
        if error.code == "not_found":
            raise ApplicationError(_("No such message."), code="not_found") from None
        raise
    if message.recalled_at is not None:
        raise ApplicationError(_("This message was recalled."), code="conflict")
    with transaction.atomic():
        if on:
            _reaction, changed = MessageReaction.objects.get_or_create(message=message, user=user, emoji=emoji)
        else:
            changed = MessageReaction.objects.filter(message=message, user=user, emoji=emoji).delete()[0] > 0
        if changed:
            frame = message_update_frame(
                message,
                reactions=reaction_counts(message.pk),
                reaction={"user": user.pk, "emoji": emoji, "on": on},
            )
            publish_on_commit(
                conversation_member_ids(message.conversation_id), event("message.update", frame)
            )
    return reactions_attach([message], user=user)[0].reactions_seen


# --- reading, typing, signalling ------------------------------------------------------------


def conversation_settings_set(
    *, user: User, conversation_id: Any, muted: Any = None, pinned: Any = None, origin: str | None = None
) -> ConversationMember:
    """Mute or pin a conversation for myself (``None`` leaves a setting as it is); my other
    devices follow live."""
    for name, value in (("muted", muted), ("pinned", pinned)):
        if value is not None and not isinstance(value, bool):
            raise ApplicationError(_("%(name)s must be true or false.") % {"name": name}, code="invalid")
    conversation = conversation_access(user=user, conversation_id=conversation_id)
    with transaction.atomic():
        membership = ConversationMember.objects.select_for_update().get(conversation=conversation, user=user)
        fields = []
        if muted is not None and membership.muted != muted:
            membership.muted = muted
            fields.append("muted")
        if pinned is not None and (membership.pinned_at is not None) != pinned:
            membership.pinned_at = timezone.now() if pinned else None
            fields.append("pinned_at")
        if fields:
            membership.save(update_fields=fields)
            frame = conversation_update_frame(
                conversation_id=conversation.pk, muted=membership.muted, pinned=membership.pinned_at is not None
            )
            publish_on_commit([user.pk], event("conversation.update", frame, origin=origin))
    return membership


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
            frame = receipt_frame(conversation_id=conversation.pk, user_id=user.pk, seq=seq)
            publish_on_commit(conversation_member_ids(conversation.pk), event("receipt.new", frame, origin=origin))
    return max(seq, ConversationMember.objects.get(conversation=conversation, user=user).last_read_seq)


def typing_notify(*, user: User, conversation_id: Any, origin: str | None = None) -> None:
    """Tell the other members that ``user`` is typing: only where a chat message from them
    would be accepted (a member, and in a direct conversation, the two may still talk;
    an app's permit to exchange its own messages is not one to chat)."""
    target = target_resolve(Target(user, conversation_id, None, "chat"))
    others = [uid for uid in target.audience if uid != user.pk]
    frame = typing_frame(conversation_id=target.conversation.pk, user_id=user.pk)
    publish_on_commit(others, event("typing.new", frame, origin=origin))


def signal_relay(*, sender: User, to_user_id: Any, data: Any, origin: str | None = None) -> None:
    """Relay P2P signalling (offer, answer, ICE candidate) to someone the sender may talk to."""
    if not isinstance(data, dict):
        raise ApplicationError(_("data must be a JSON object."), code="invalid")
    check_body(data)
    other = _user_get_active(to_user_id)
    if other.pk == sender.pk or not policy.may_talk(sender, other):
        raise ApplicationError(_("You may not signal this person."), code="not_permitted")
    publish_on_commit([other.pk], event("signal.new", signal_frame(sender_id=sender.pk, data=data), origin=origin))


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
    return hello_frame(user=user, server=worker, last_message_id=last_message_id_for_user(user=user))


def connection_close(*, channel_name: str) -> None:
    Connection.objects.filter(channel_name=channel_name, closed_at__isnull=True).update(closed_at=timezone.now())


def connections_close_all(*, user_id: int) -> None:
    """Every connection of the user, on every worker, closes at once (4401): their
    password changed, or the account was switched off."""
    publish_on_commit([user_id], event("connection.close", {}))


def connections_close_session(*, user_id: int, session_key: str) -> None:
    """The connections of a browser session that was signed out close at once (4401), on
    every worker; the user's other sessions and tokens keep theirs."""
    publish_on_commit([user_id], event("connection.close", {}, session=session_tag(session_key)))


# --- the direct path's offload --------------------------------------------------------

# What clients send each other directly: messages, and files (docs/p2p.md).
P2P_KINDS = ("message", "file")


def p2p_bytes_report(*, byte_count: Any, kind: Any) -> None:
    """Count bytes a client says it sent directly to a peer; the server never sees them,
    so this report is the only measure of how much the direct path carries."""
    if not is_number(byte_count) or not 1 <= byte_count <= settings.FILE_MAX_P2P_REPORT:
        raise ApplicationError(
            _("bytes must be a whole number from 1 to %(max)d.") % {"max": settings.FILE_MAX_P2P_REPORT},
            code="invalid",
        )
    if kind not in P2P_KINDS:
        raise ApplicationError(_("kind must be “message” or “file”."), code="invalid")
    metrics.P2P_BYTES.labels(kind=kind).inc(byte_count)


# --- group management -----------------------------------------------------------------
#
# A group's owner is the person who made it (``created_by``, as for ``@all``): they add and
# remove members, rename it and set its notice; any member leaves. An owner who leaves
# hands the group to the member who joined longest ago; a group nobody is left in is kept,
# ownerless and silent. Every change is told in the group by a ``group`` message from the
# one who made it (``GroupHandler``), stored while the people it concerns are still
# members, so that a member removed or leaving hears it live too. Department
# conversations follow their department (``department_conversation_sync``), never these.

GROUP_ADD_PER_REQUEST = 50
GROUP_NOTICE_MAX_CHARS = 2000
GROUP_TITLE_MAX_CHARS = 200


def _group_for_change(*, user: User, conversation_id: Any, owner_only: bool = True) -> Conversation:
    """The group ``user`` is a member of, locked for the change; its owner's, if asked."""
    conversation = conversation_access(user=user, conversation_id=conversation_id)
    if conversation.kind != Conversation.Kind.GROUP:
        raise ApplicationError(
            _("Only groups are managed this way; a department's conversation follows the department."),
            code="not_permitted",
        )
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if owner_only and conversation.created_by_id != user.pk:
        raise ApplicationError(_("Only the group's owner can do this."), code="not_permitted")
    return conversation


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.name}


def _group_announce(conversation: Conversation, actor: User, action: str, **fields: Any) -> None:
    """Tell the group's members what changed: a ``group`` message from ``actor``, sent with
    the change (it is published when the change commits)."""
    message_send(
        sender=actor,
        client_id=f"group-{uuid.uuid4().hex}",
        conversation_id=conversation.pk,
        app=GROUP_APP,
        body={"action": action, "by": _person(actor), **fields},
        from_client=False,
    )


def _group_text(value: Any, *, name: str, max_chars: int, required: bool) -> str:
    if not isinstance(value, str):
        raise ApplicationError(_("%(name)s must be text.") % {"name": name}, code="invalid")
    value = value.strip()
    if required and not value:
        raise ApplicationError(_("A group needs a title."), code="invalid")
    if len(value) > max_chars:
        raise ApplicationError(
            _("%(name)s can have at most %(max)d characters.") % {"name": name, "max": max_chars}, code="invalid"
        )
    if "\x00" in value or not is_storable_text(value):
        raise ApplicationError(_("%(name)s contains characters that cannot be stored.") % {"name": name}, code="invalid")
    return value


@transaction.atomic
def group_update(*, user: User, conversation_id: Any, title: Any = None, notice: Any = None) -> Conversation:
    """The owner renames the group or sets its notice (``None`` leaves either as it is;
    an empty notice clears it). A change is told in the group; no change, no message."""
    if title is None and notice is None:
        raise ApplicationError(_("Give a title or a notice."), code="invalid")
    if title is not None:
        title = _group_text(title, name="title", max_chars=GROUP_TITLE_MAX_CHARS, required=True)
    if notice is not None:
        notice = _group_text(notice, name="notice", max_chars=GROUP_NOTICE_MAX_CHARS, required=False)
    conversation = _group_for_change(user=user, conversation_id=conversation_id)
    if title is not None and title != conversation.title:
        conversation.title = title
        conversation.save(update_fields=["title"])
        _group_announce(conversation, user, "rename", title=title)
    if notice is not None and notice != conversation.notice:
        conversation.notice = notice
        conversation.save(update_fields=["notice"])
        _group_announce(conversation, user, "notice", notice=notice)
    return conversation


@transaction.atomic
def group_members_add(*, user: User, conversation_id: Any, user_ids: Any) -> Conversation:
    """The owner adds people: each active, one of the owner's contacts, and allowed to
    talk with every member by the address-book rules; the group stays within
    ``GROUP_MAX_MEMBERS``. Those who are members already are left as they are. The new
    members start with everything before them read, and hear of it from the message
    that tells the group."""
    if not isinstance(user_ids, list) or not user_ids or not all(is_number(u) for u in user_ids):
        raise ApplicationError(_("users must be a list of user ids."), code="invalid")
    if len(user_ids) > GROUP_ADD_PER_REQUEST:
        raise ApplicationError(
            _("At most %(n)d people can be added at once.") % {"n": GROUP_ADD_PER_REQUEST}, code="invalid"
        )
    conversation = _group_for_change(user=user, conversation_id=conversation_id)
    members = set(conversation.memberships.values_list("user_id", flat=True))
    wanted = set(user_ids) - members
    if not wanted:
        return conversation
    if len(members) + len(wanted) > settings.GROUP_MAX_MEMBERS:
        raise ApplicationError(
            _("A group can have at most %(n)d members.") % {"n": settings.GROUP_MAX_MEMBERS}, code="too_large"
        )
    people = User.objects.in_bulk(wanted)
    unknown = sorted(pk for pk in wanted if pk not in people or not people[pk].is_active)
    if unknown:
        raise ApplicationError(_("No such person."), code="not_found", extra={"users": unknown})
    outsiders = wanted - policy.contact_ids(user)
    if outsiders:
        raise ApplicationError(
            _("Only your contacts can be added to a group."), code="not_permitted", extra={"users": sorted(outsiders)}
        )
    current = list(User.objects.filter(pk__in=members - {user.pk}))
    pairs = [(people[pk], member) for pk in sorted(wanted) for member in current]
    refused = sorted({a.pk for (a, _b), allowed in zip(pairs, policy.may_talk_many(pairs) if pairs else []) if not allowed})
    if refused:
        raise ApplicationError(
            _("The address-book rules do not let them talk with every member of the group."),
            code="not_permitted",
            extra={"users": refused},
        )
    ConversationMember.objects.bulk_create(
        [ConversationMember(conversation=conversation, user_id=pk, last_read_seq=conversation.last_seq) for pk in wanted]
    )
    _group_announce(conversation, user, "add", users=[_person(people[pk]) for pk in sorted(wanted)])
    return conversation


@transaction.atomic
def group_member_remove(*, user: User, conversation_id: Any, user_id: Any) -> Conversation:
    """The owner removes a member (not themselves: they leave). The member hears it live,
    as a member still, and is then gone."""
    require_number(user_id, "user")
    conversation = _group_for_change(user=user, conversation_id=conversation_id)
    if user_id == user.pk:
        raise ApplicationError(_("To leave the group, use leave."), code="invalid")
    membership = conversation.memberships.select_related("user").filter(user_id=user_id).first()
    if membership is None:
        raise ApplicationError(_("This person is not a member of the group."), code="not_found")
    _group_announce(conversation, user, "remove", users=[_person(membership.user)])
    membership.delete()
    return conversation


@transaction.atomic
def group_leave(*, user: User, conversation_id: Any) -> Conversation:
    """A member leaves. An owner who leaves hands the group to the member who joined
    longest ago (``owner`` in the message); the last to leave leaves it ownerless."""
    conversation = _group_for_change(user=user, conversation_id=conversation_id, owner_only=False)
    fields: dict[str, Any] = {"users": [_person(user)]}
    successor = None
    if conversation.created_by_id == user.pk:
        successor = (
            conversation.memberships.exclude(user=user).select_related("user").order_by("joined_at", "pk").first()
        )
        if successor is not None:
            fields["owner"] = _person(successor.user)
    _group_announce(conversation, user, "leave", **fields)
    ConversationMember.objects.filter(conversation=conversation, user=user).delete()
    if conversation.created_by_id == user.pk:
        conversation.created_by = successor.user if successor is not None else None
        conversation.save(update_fields=["created_by"])
    return conversation
