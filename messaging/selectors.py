"""Reads for messaging, each checked against conversation membership."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Max, Min, OuterRef, Prefetch, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError, require_number

from .frames import message_frame
from .models import Conversation, ConversationMember, Message, MessageMention, MessageReaction

# Messages a replay reads and sends in one turn (messaging.socket.replay).
SYNC_BATCH = 100


def conversation_access(*, user: User, conversation_id: Any) -> Conversation:
    """A conversation ``user`` is a member of; anything else does not exist for them."""
    require_number(conversation_id, "conversation")
    conversation = Conversation.objects.filter(pk=conversation_id, memberships__user=user).first()
    if conversation is None:
        raise ApplicationError(_("No such conversation."), code="not_found")
    return conversation


def conversation_member_ids(conversation_id: int) -> list[int]:
    return list(ConversationMember.objects.filter(conversation_id=conversation_id).values_list("user_id", flat=True))


def conversation_list_for_user(*, user: User, conversation_id: int | None = None) -> list[dict]:
    """My inbox: every conversation I am in, with its members, my unread count and how
    many of those mention me, the last message and my own settings; pinned ones first, then by last activity."""
    memberships = (
        ConversationMember.objects.filter(user=user)
        .select_related("conversation")
        .annotate(
            last_message_id=Subquery(
                Message.objects.filter(conversation_id=OuterRef("conversation_id"))
                .order_by("-seq")
                .values("id")[:1]
            ),
            # My unread mentions: counted in the same query, on (user, conversation, seq).
            unread_mentions=Coalesce(
                Subquery(
                    MessageMention.objects.filter(
                        user_id=OuterRef("user_id"),
                        conversation_id=OuterRef("conversation_id"),
                        seq__gt=OuterRef("last_read_seq"),
                    )
                    .order_by()
                    .values("conversation_id")
                    .annotate(count=Count("*"))
                    .values("count")
                ),
                Value(0),
            ),
        )
        .prefetch_related(
            Prefetch(
                "conversation__memberships",
                queryset=ConversationMember.objects.select_related("user").order_by("user__username"),
                to_attr="member_rows",
            )
        )
        .order_by(
            Case(When(pinned_at__isnull=False, then=Value(0)), default=Value(1), output_field=IntegerField()),
            Coalesce(F("conversation__last_message_at"), F("conversation__created_at")).desc(),
            "-conversation_id",
        )
    )
    if conversation_id is not None:
        memberships = memberships.filter(conversation_id=conversation_id)
    memberships = list(memberships)
    last_messages = Message.objects.select_related("reply_to").in_bulk([m.last_message_id for m in memberships if m.last_message_id])
    result = []
    for membership in memberships:
        conversation = membership.conversation
        members = [row.user for row in conversation.member_rows]
        last = last_messages.get(membership.last_message_id)
        result.append(
            {
                "id": conversation.pk,
                "kind": conversation.kind,
                "title": _conversation_title(conversation, members, user),
                "members": [
                    {
                        "id": row.user.pk,
                        "username": row.user.username,
                        "display_name": row.user.name,
                        "last_read_seq": row.last_read_seq,
                    }
                    for row in conversation.member_rows
                ],
                "unread": max(0, conversation.last_seq - membership.last_read_seq),
                "mentions": membership.unread_mentions,
                "last_read_seq": membership.last_read_seq,
                "last_seq": conversation.last_seq,
                "last_message": last,
                "muted": membership.muted,
                "pinned": membership.pinned_at is not None,
                # A group's owner (who may change it) and notice; None and "" elsewhere.
                "owner": conversation.created_by_id if conversation.kind == Conversation.Kind.GROUP else None,
                "notice": conversation.notice,
            }
        )
    return result


def unread_total_for_user(*, user: User) -> int:
    """My unread messages over every conversation I have not muted: the inbox's counts
    added up, as the chat's page title and the phone's Chat tab show them."""
    total = ConversationMember.objects.filter(user=user, muted=False).aggregate(
        total=Sum(Greatest(F("conversation__last_seq") - F("last_read_seq"), Value(0)))
    )["total"]
    return int(total or 0)


def _conversation_title(conversation: Conversation, members: list[User], viewer: User) -> str:
    if conversation.kind == Conversation.Kind.DIRECT:
        others = [m for m in members if m.pk != viewer.pk]
        return others[0].name if others else viewer.name
    return conversation.title


def conversation_get_for_user(*, user: User, conversation_id: Any) -> dict:
    conversation_access(user=user, conversation_id=conversation_id)
    return conversation_list_for_user(user=user, conversation_id=conversation_id)[0]


def message_list_for_conversation(
    *, user: User, conversation_id: Any, before: int | None = None, after: int | None = None, limit: int = 50
) -> tuple[list[Message], bool]:
    """A page of history in seq order, and whether there is more in the paging direction."""
    conversation = conversation_access(user=user, conversation_id=conversation_id)
    messages = Message.objects.filter(conversation=conversation).select_related("reply_to")
    if after is not None:
        page = list(messages.filter(seq__gt=after).order_by("seq")[: limit + 1])
        return reactions_attach(page[:limit], user=user), len(page) > limit
    if before is not None:
        messages = messages.filter(seq__lt=before)
    page = list(messages.order_by("-seq")[: limit + 1])
    return reactions_attach(list(reversed(page[:limit])), user=user), len(page) > limit


def reactions_attach(messages: list[Message], *, user: User) -> list[Message]:
    """Put on each message its reactions as ``user`` sees them (``reactions_seen``: each
    emoji, how many, and whether ``user`` is among them), in the order they were first
    given: one query for the lot."""
    ids = [m.pk for m in messages if m.recalled_at is None]
    seen: dict[int, list[dict]] = {}
    if ids:
        rows = (
            MessageReaction.objects.filter(message_id__in=ids)
            .values("message_id", "emoji")
            .annotate(count=Count("*"), mine=Max(Case(When(user=user, then=Value(1)), default=Value(0))), first=Min("id"))
            .order_by("message_id", "first")
        )
        for row in rows:
            seen.setdefault(row["message_id"], []).append(
                {"emoji": row["emoji"], "count": row["count"], "me": bool(row["mine"])}
            )
    for message in messages:
        message.reactions_seen = seen.get(message.pk, [])
    return messages


# Who reacted: the names a reaction lists at most (its count says how many in all).
REACTION_NAMES = 20


def reaction_people(*, user: User, message_id: Any) -> list[dict]:
    """Who gave each reaction to a message of a conversation ``user`` is in: each emoji
    with its count and the first :data:`REACTION_NAMES` people, in the order they gave it."""
    require_number(message_id, "message")
    message = Message.objects.filter(pk=message_id, conversation__memberships__user=user).first()
    if message is None:
        raise ApplicationError(_("No such message."), code="not_found")
    by_emoji: dict[str, dict] = {}
    rows = MessageReaction.objects.filter(message=message).select_related("user").order_by("id")
    for row in rows:
        entry = by_emoji.setdefault(row.emoji, {"emoji": row.emoji, "count": 0, "users": []})
        entry["count"] += 1
        if len(entry["users"]) < REACTION_NAMES:
            entry["users"].append({"id": row.user_id, "display_name": row.user.name})
    return list(by_emoji.values())


def reaction_counts(message_id: int) -> list[dict]:
    """A message's reactions for everyone: each emoji and how many, in the order first given."""
    rows = (
        MessageReaction.objects.filter(message_id=message_id)
        .values("emoji")
        .annotate(count=Count("*"), first=Min("id"))
        .order_by("first")
    )
    return [{"emoji": row["emoji"], "count": row["count"]} for row in rows]


def message_frames_after(*, user: User, after_id: int, limit: int = SYNC_BATCH) -> list[tuple[int, str]]:
    """What a reconnecting client missed: messages after an id in my conversations, oldest
    first, as ``(id, frame text)``: serialised here, in the database thread, so that a
    replay costs the event loop only its sends."""
    messages = list(
        Message.objects.filter(id__gt=after_id, conversation__memberships__user=user)
        .select_related("reply_to")
        .order_by("id")[:limit]
    )
    reactions_attach(messages, user=user)
    return [(message.pk, json.dumps(message_frame(message), separators=(",", ":"))) for message in messages]


def last_message_id_for_user(*, user: User) -> int:
    return (
        Message.objects.filter(conversation__memberships__user=user).aggregate(last=Max("id"))["last"] or 0
    )
