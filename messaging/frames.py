"""Every frame the server sends on a socket (protocol v1, docs/protocol.md), in one place.

Each frame type has a builder here and a shape in :data:`SHAPES`: its fields and their
types. ``check_frame`` holds a frame to its shape; the tests run it on every frame their
clients receive, as Zulip checks each event it sends against its schema, so a frame that
grows, loses or changes a field fails there before any client sees it.
"""

from __future__ import annotations

from typing import Any

from .models import Message

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
            "mentions": list,
        },
        {},
    ),
    "message_update": (
        {"id": int, "conversation": int, "seq": int, "body": dict, "edited_at": NULLABLE(str), "recalled": bool},
        {},
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
    if frame["type"] == "message" and not all(type(i) is int for i in frame["mentions"]):
        raise ValueError(f"message.mentions is not a list of ids: {frame!r:.200}")
    if frame["type"] == "presence" and frame["status"] not in PRESENCE_STATUSES:
        raise ValueError(f"presence status {frame['status']!r}")


def check_fields(value: dict, shape: dict[str, type], where: str) -> None:
    if set(value) != set(shape) or not all(isinstance(value[k], t) for k, t in shape.items()):
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
    }


def message_update_frame(message: Message) -> dict[str, Any]:
    frame = message_frame(message)
    return {"type": "message_update", **{key: frame[key] for key in _UPDATE_FIELDS}}


_UPDATE_FIELDS = ("id", "conversation", "seq", "body", "edited_at", "recalled")


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
