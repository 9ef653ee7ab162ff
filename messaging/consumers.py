"""The WebSocket endpoint of protocol v1 (docs/protocol.md).

Thin on purpose: authenticate, parse, call one service, forward. Every decision is a
service's; every event a service published arrives through the channel layer and is
forwarded as it is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict

from imsite.db import db
from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import connection_user_get_valid

from imsite.errors import ApplicationError, require_number

from . import metrics, presence, selectors, services
from .frames import ack_frame, error_frame, message_frame
from .ratelimit import TokenBucket, send_bucket
from .realtime import bind_server_loop, user_group

MAX_FRAME_BYTES = 96 * 1024
AUTH_RECHECK_SECONDS = 60
# Frames that change something: a Bearer token needs the write scope for them.
WRITE_FRAMES = frozenset({"send", "read", "typing", "signal"})
TYPING_INTERVAL = 2.0
RECENT_IDS = 2000

logger = logging.getLogger(__name__)


class RecentIds:
    """The ids of the last messages sent on a connection, so that none goes out twice."""

    def __init__(self, size: int = RECENT_IDS) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def add(self, message_id: int) -> bool:
        if message_id in self._ids:
            return False
        self._ids[message_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class ChatConsumer(AsyncWebsocketConsumer):
    user = None

    # --- lifecycle -----------------------------------------------------------------------
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()  # before accept: the handshake is refused
            return
        self.user = user
        bind_server_loop(asyncio.get_running_loop())
        self.sends = send_bucket()
        self.frames = TokenBucket(settings.FRAME_RATE_BURST, settings.FRAME_RATE_PER_SECOND)
        self.typing_sent: dict[int, float] = {}
        self.sent_ids = RecentIds()
        self.auth_checked = time.monotonic()
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await self.accept()
        metrics.CONNECTIONS.inc()
        headers = dict(self.scope.get("headers", []))
        hello = await db(services.connection_open)(
            user=user,
            channel_name=self.channel_name,
            worker=settings.SWITCHBOARD_WORKER_NAME,
            client=self.scope.get("client"),
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
            auth=self.scope.get("auth", "session"),
        )
        await self.send_frame(hello)
        for frame in await presence.presence_connect(user=user, channel=self.channel_name):
            await self.send_frame(frame)

    async def disconnect(self, code: int) -> None:
        if self.user is None:
            return
        metrics.CONNECTIONS.dec()
        await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
        await presence.presence_change(user=self.user, channel=self.channel_name, status=None)
        await db(services.connection_close)(channel_name=self.channel_name)

    # --- client frames ---------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        client_id = None
        try:
            if text_data is None:
                raise ApplicationError(_("Frames are JSON text."), code="invalid")
            if len(text_data) > MAX_FRAME_BYTES:
                raise ApplicationError(_("The frame is too large."), code="too_large")
            try:
                frame = json.loads(text_data)
            except ValueError:
                raise ApplicationError(_("The frame is not valid JSON."), code="invalid") from None
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise ApplicationError(_("A frame is a JSON object with a type."), code="invalid")
            handler = self.FRAME_HANDLERS.get(frame["type"])
            if handler is None:
                raise ApplicationError(
                    _("Unknown frame type %(type)r.") % {"type": frame["type"][:40]}, code="invalid"
                )
            if frame["type"] == "send":
                client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
            if not await self.still_authenticated():
                await self.send_error(
                    "unauthenticated", _("Your session has ended; sign in again."), client_id
                )
                await self.close(code=4401)
                return
            if not self.frames.take():
                raise ApplicationError(_("Too many frames; slow down."), code="rate_limited")
            if (
                frame["type"] in WRITE_FRAMES
                and self.scope.get("auth") == "bearer"
                and "write" not in self.scope.get("auth_scopes", ())
            ):
                raise ApplicationError(_("This token's scope does not allow that."), code="not_permitted")
            await handler(self, frame)
        except ApplicationError as error:
            await self.send_error(error.code, str(error.detail), client_id)
        except Exception:
            # A fault of ours (a lost database, say): log it and close, so that the client
            # reconnects and resyncs and disconnect() still cleans up after us.
            logger.exception("frame handling failed for user %s", self.user.pk if self.user else None)
            await self.close(code=1011)

    async def still_authenticated(self) -> bool:
        """A Bearer token's expiry is checked on every frame; once a minute, that the user
        is still active and (for a browser) that the session was not signed out or made
        under an old password."""
        expires = self.scope.get("auth_expires")
        if expires is not None and timezone.now() >= expires:
            return False
        if time.monotonic() - self.auth_checked < AUTH_RECHECK_SECONDS:
            return True
        self.auth_checked = time.monotonic()
        session = self.scope.get("session") if self.scope.get("auth") == "session" else None
        user = await db(connection_user_get_valid)(
            user_id=self.user.pk, session_key=(session.session_key or "") if session is not None else None
        )
        if user is None:
            return False
        self.user = user
        return True

    async def on_send(self, frame: dict) -> None:
        if not self.sends.take():
            raise ApplicationError(_("You are sending too fast; wait a moment."), code="rate_limited")
        result = await db(services.message_send)(
            sender=self.user,
            client_id=frame.get("client_id"),
            conversation_id=frame.get("conversation"),
            to_user_id=frame.get("to"),
            app=frame.get("app", "chat"),
            body=frame.get("body"),
            origin=self.channel_name,
        )
        self.sent_ids.add(result.message.pk)
        await self.send_frame(ack_frame(result.message))

    async def on_sync(self, frame: dict) -> None:
        after = require_number(frame.get("after"), "after", minimum=0)
        while True:
            batch = await db(selectors.messages_after)(user=self.user, after_id=after)
            for message in batch:
                if self.sent_ids.add(message.pk):
                    await self.send_frame(message_frame(message))
            if len(batch) < selectors.SYNC_BATCH:
                return
            after = batch[-1].pk

    async def on_read(self, frame: dict) -> None:
        await db(services.conversation_mark_read)(
            user=self.user, conversation_id=frame.get("conversation"), seq=frame.get("seq"), origin=self.channel_name
        )

    async def on_typing(self, frame: dict) -> None:
        conversation = require_number(frame.get("conversation"), "conversation")
        now = time.monotonic()
        if now - self.typing_sent.get(conversation, 0.0) < TYPING_INTERVAL:
            metrics.DROPPED.labels(kind="typing").inc()
            return
        self.typing_sent[conversation] = now
        await db(services.typing_notify)(
            user=self.user, conversation_id=conversation, origin=self.channel_name
        )

    async def on_signal(self, frame: dict) -> None:
        await db(services.signal_relay)(
            sender=self.user, to_user_id=frame.get("to"), data=frame.get("data"), origin=self.channel_name
        )

    async def on_ping(self, frame: dict) -> None:
        await self.send_frame({"type": "pong"})

    async def on_presence(self, frame: dict) -> None:
        status = frame.get("status")
        if status not in (presence.ONLINE, presence.AWAY):
            raise ApplicationError(_("status must be online or away."), code="invalid")
        await presence.presence_change(user=self.user, channel=self.channel_name, status=status)

    FRAME_HANDLERS = {
        "send": on_send,
        "sync": on_sync,
        "read": on_read,
        "typing": on_typing,
        "signal": on_signal,
        "ping": on_ping,
        "presence": on_presence,
    }

    # --- events from the channel layer ---------------------------------------------------
    async def forward(self, event: dict) -> None:
        if event.get("origin") == self.channel_name:
            return
        await self.send(text_data=event["text"])
        metrics.FRAMES_SENT.labels(type=event["type"]).inc()

    async def message_new(self, event: dict) -> None:
        if event.get("origin") == self.channel_name or not self.sent_ids.add(event["id"]):
            return
        await self.send(text_data=event["text"])
        metrics.RELAY_BYTES.inc(len(event["text"]))
        if "published_at" in event:
            metrics.DELIVERY_LATENCY.observe(max(0.0, time.time() - event["published_at"]))

    async def message_update(self, event: dict) -> None:
        await self.forward(event)

    async def signal_new(self, event: dict) -> None:
        await self.forward(event)
        metrics.RELAY_BYTES.inc(len(event["text"]))

    async def connection_close(self, event: dict) -> None:
        """The account was switched off: say so and close."""
        await self.send_error("unauthenticated", _("Your account has been deactivated."))
        await self.close(code=4401)

    app_event = forward
    receipt_new = forward
    typing_new = forward
    presence_changed = forward

    # --- sending ---------------------------------------------------------------------------
    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except (ValueError, Disconnected):
            # The client went away mid-send (Daphne's socket says "Attempt to send on a
            # closed protocol"); its disconnect is on the way and cleans up.
            pass

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))

    async def send_error(self, code: str, detail: str, client_id: str | None = None) -> None:
        metrics.ERRORS.labels(code=code).inc()
        await self.send_frame(error_frame(code, detail, client_id))
