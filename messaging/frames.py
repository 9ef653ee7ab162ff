"""Every frame the server sends on a socket (protocol v1, docs/protocol.md), in one place.

Each frame type has a builder here and a shape in :data:`SHAPES`: its fields and their
types. ``check_frame`` holds a frame to its shape; the tests run it on every frame their
clients receive, as Zulip checks each event it sends against its schema, so a frame that
grows, loses or changes a field fails there before any client sees it.
"""

from __future__ import annotations

from typing import Any

from .models import Message
from .registry import quote_text

# Field types: a Python type, or NULLABLE(...) for "this or null".


class NULLABLE:
    def __init__(self, *types: type) -> None:
        self.types = (*types, type(None))


# The frame types, their required fields and, after them, the optional ones.
SHAPES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "hello": ({"user": dict, "server": str, "last_message_id": int}, {}),
    "ack": ({"client_id": str, "id": int, "conversation": int, "seq": int, "created_at": str}, {}),
    "message": (
        {
            "id": int, "conversation": int, "seq": int, "sender": int, "app": str, "body": dict,
            "created_at": str, "client_id": NULLABLE(str), "edited_at": NULLABLE(str), "recalled": bool,
            "mentions": list, "reply_to": NULLABLE(dict), "forwarded": bool, "reactions": list,
        },
        {},
    ),
    "message_update": (
        {"id": int, "conversation": int, "seq": int, "body": dict, "edited_at": NULLABLE(str), "recalled": bool},
        # A change of reactions: the counts now, and whose reaction changed; an edit's
        # mentions, read again from its new text.
        {"reactions": list, "reaction": dict, "mentions": list},
    ),
    "receipt": ({"conversation": int, "user": int, "seq": int}, {}),
    "presence": ({"user": int, "status": str}, {}),
    "presence_subscribed": ({"users": list}, {}),
    "typing": ({"conversation": int, "user": int}, {}),
    "signal": ({"from": int, "data": dict}, {}),
    "pong": ({}, {}),
    "error": ({"code": str, "detail": str}, {"client_id": str}),
    "app_event": ({"app": str, "data": dict}, {}),
    "conversation_update": ({"conversation": int, "muted": bool, "pinned": bool}, {}),
}
HELLO_USER = {"id": int, "username": str, "display_name": str}
REPLY = {"id": int, "seq": int, "sender": int, "app": str, "quote": str, "recalled": bool}
REACTION = {"emoji": str, "count": int, "me": bool}
REACTION_COUNT = {"emoji": str, "count": int}
REACTION_CHANGE = {"user": int, "emoji": str, "on": bool}
# How much of the message answered a reply quotes.
QUOTE_CHARS = 100
PRESENCE_STATUSES = ("online", "away", "offline")


def check_frame(frame: Any) -> None:
    """Raise ``ValueError`` unless ``frame`` is one of :data:`SHAPES`, exactly."""
    if not isinstance(frame, dict) or frame.get("type") not in SHAPES:
        raise ValueError(f"not a frame of protocol v1: {frame!r:.200}")
    required, optional = SHAPES[frame["type"]]
    fields = set(frame) - {"type"}
    if missing := set(required) - fields:
        raise ValueError(f"{frame['type']} frame without {sorted(missing)}: {frame!r:.200}")
    if unknown := fields - set(required) - set(optional):
        raise ValueError(f"{frame['type']} frame with unknown {sorted(unknown)}: {frame!r:.200}")
    for name in fields:
        kind = {**required, **optional}[name]
        types = kind.types if isinstance(kind, NULLABLE) else kind
        value = frame[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
            raise ValueError(f"{frame['type']}.{name} is {type(value).__name__}: {frame!r:.200}")
    if frame["type"] == "hello":
        check_fields(frame["user"], HELLO_USER, "hello.user")
    if frame["type"] == "message":
        if not all(type(i) is int for i in frame["mentions"]):
            raise ValueError(f"message.mentions is not a list of ids: {frame!r:.200}")
        if frame["reply_to"] is not None:
            check_fields(frame["reply_to"], REPLY, "message.reply_to")
        for reaction in frame["reactions"]:
            check_fields(reaction, REACTION, "message.reactions[]")
    if frame["type"] == "message_update":
        for reaction in frame.get("reactions", ()):
            check_fields(reaction, REACTION_COUNT, "message_update.reactions[]")
        if "reaction" in frame:
            check_fields(frame["reaction"], REACTION_CHANGE, "message_update.reaction")
        if not all(type(i) is int for i in frame.get("mentions", ())):
            raise ValueError(f"message_update.mentions is not a list of ids: {frame!r:.200}")
    if frame["type"] == "presence" and frame["status"] not in PRESENCE_STATUSES:
        raise ValueError(f"presence status {frame['status']!r}")


def check_fields(value: dict, shape: dict[str, type], where: str) -> None:
    if (
        not isinstance(value, dict)
        or set(value) != set(shape)
        or not all(isinstance(value[k], t) and (t is bool) == (type(value[k]) is bool) for k, t in shape.items())
    ):
        raise ValueError(f"{where} is not {shape}: {value!r:.200}")


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def hello_frame(*, user, server: str, last_message_id: int) -> dict[str, Any]:
    return {
        "type": "hello",
        "user": {"id": user.pk, "username": user.username, "display_name": user.name},
        "server": server,
        "last_message_id": last_message_id,
    }


def message_frame(message: Message) -> dict[str, Any]:
    """A message as every member sees it. The message it answers must be loaded with it
    (``select_related("reply_to")``, or set on it) where it has one, and its reactions
    as the reader sees them are those a selector put in ``reactions_seen`` (none else)."""
    return {
        "type": "message",
        "id": message.id,
        "conversation": message.conversation_id,
        "seq": message.seq,
        "sender": message.sender_id,
        "app": message.app,
        "body": message.body,
        "created_at": iso(message.created_at),
        "client_id": message.client_id,
        "edited_at": iso(message.edited_at),
        "recalled": message.recalled_at is not None,
        "mentions": list(message.mentions or ()),
        "reply_to": reply_quote(message.reply_to) if message.reply_to_id is not None else None,
        "forwarded": message.forwarded,
        "reactions": list(getattr(message, "reactions_seen", ())),
    }


def reply_quote(original: Message) -> dict[str, Any]:
    """What a reply carries of the message it answers: a short plain-text quote (none of a
    recalled message), and where to jump to."""
    text = "" if original.recalled_at is not None else quote_text(original)
    text = " ".join(text.split())
    return {
        "id": original.pk,
        "seq": original.seq,
        "sender": original.sender_id,
        "app": original.app,
        "quote": text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…",
        "recalled": original.recalled_at is not None,
    }


def message_update_frame(
    message: Message, *, reactions: list | None = None, reaction: dict | None = None, mentions: list | None = None
) -> dict[str, Any]:
    """A message changed: edited, recalled, or its reactions (their counts, and whose
    changed: each reader keeps its own ``me``)."""
    frame = {
        "type": "message_update",
        "id": message.id,
        "conversation": message.conversation_id,
        "seq": message.seq,
        "body": message.body,
        "edited_at": iso(message.edited_at),
        "recalled": message.recalled_at is not None,
    }
    if reactions is not None:
        frame["reactions"] = reactions
    if reaction is not None:
        frame["reaction"] = reaction
    if mentions is not None:
        frame["mentions"] = list(mentions)
    return frame


def ack_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "ack",
        "client_id": message.client_id,
        "id": message.id,
        "conversation": message.conversation_id,
        "seq": message.seq,
        "created_at": iso(message.created_at),
    }


def receipt_frame(*, conversation_id: int, user_id: int, seq: int) -> dict[str, Any]:
    return {"type": "receipt", "conversation": conversation_id, "user": user_id, "seq": seq}


def typing_frame(*, conversation_id: int, user_id: int) -> dict[str, Any]:
    return {"type": "typing", "conversation": conversation_id, "user": user_id}


def signal_frame(*, sender_id: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "signal", "from": sender_id, "data": data}


def presence_frame(*, user_id: int, status: str) -> dict[str, Any]:
    return {"type": "presence", "user": user_id, "status": status}


def presence_subscribed_frame(user_ids) -> dict[str, Any]:
    return {"type": "presence_subscribed", "users": sorted(user_ids)}


def conversation_update_frame(*, conversation_id: int, muted: bool, pinned: bool) -> dict[str, Any]:
    """One member's own settings of a conversation changed (to that member's sockets)."""
    return {"type": "conversation_update", "conversation": conversation_id, "muted": muted, "pinned": pinned}


def app_event_frame(*, app: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "app_event", "app": app, "data": data}


PONG = {"type": "pong"}


def error_frame(code: str, detail: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
