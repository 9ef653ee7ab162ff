"""Protocol v1 frames, built in one place for the socket, the REST API and the sync replay."""

from __future__ import annotations

from typing import Any

from .models import Message


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


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


def error_frame(code: str, detail: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
