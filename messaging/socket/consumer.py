"""The WebSocket endpoint of protocol v1 (docs/protocol.md).

Thin on purpose: authenticate, parse, call one service, forward. Every decision is a
service's; every event a service published reaches the connection through its worker's
dispatcher (``messaging.realtime.dispatch``) and is forwarded as it is.

A client that stops reading is cut off once more than ``SLOW_CLIENT_MAX_BYTES`` wait
unsent for it (``backpressure``); it reconnects and catches up with ``sync``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections import OrderedDict
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.consumer import get_handler_name
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.selectors import connection_user_get_valid, session_tag

from core.db import db
from core.errors import ApplicationError, require_number

from .. import metrics, selectors, services
from ..frames import PONG, ack_frame, error_frame, presence_subscribed_frame
from ..realtime import dispatch, presence
from ..send import SendRequest
from ..send.queue import get_send_queue
from .backpressure import outbound_buffer
from .ratelimit import TokenBucket, send_bucket
from .replay import get_replay_turns

MAX_FRAME_BYTES = 96 * 1024
AUTH_RECHECK_SECONDS = 60
# A Bearer token needs the read scope to open a socket at all (it replays history and
# hears live messages), and the write scope as well for the frames that change something.
READ_SCOPE = "read"
WRITE_FRAMES = frozenset({"send", "read", "typing", "signal", "react"})
# Close codes of protocol v1 (docs/protocol.md) besides the dispatcher's 4012 and 4013.
CLOSE_UNAUTHENTICATED = 4401  # the session or token ended: sign in again
CLOSE_SCOPE = 4403  # the token's scopes do not allow a socket
CLOSE_TOO_MANY = 4429  # this user, or this address, holds as many sockets as a worker allows
TYPING_INTERVAL = 2.0
RECENT_IDS = 2000
# Events that arrive while a connection says hello wait for it; more than this and the
# connection is treated like a client that does not read.
EARLY_EVENTS = 1000
# How long a sync waits for a client to take what it already has before sending more.
DRAIN_PATIENCE_SECONDS = 30

logger = logging.getLogger(__name__)


def socket_language(user, headers: dict[bytes, bytes]) -> str:
    """The language a connection's own texts (error details) are in: the person's chosen
    one, else the browser's Accept-Language, else the site's (as pages choose theirs)."""
    if getattr(user, "language", ""):
        return user.language
    accept = headers.get(b"accept-language", b"").decode("latin-1")[:500]
    for code, _quality in parse_accept_lang_header(accept):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


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
    # No channel of its own: the worker's dispatcher hands it its events (deliver()).
    channel_layer_alias = None
    user = None
    dispatcher = None
    outbound = None
    ready = False
    cut_off = False
    # Protocol v1 tells a connection of all its contacts' presence; one opened with
    # ?presence=subscribe hears only the users it names (presence_subscribe).
    presence_everyone = True
    watching_everyone = False  # counted in the dispatcher's v1 watchers
    subscriptions: frozenset[int] = frozenset()
    address: str | None = None  # the client's, for the per-address limit
    session_name: str | None = None  # the browser session's tag (accounts.selectors.session_tag)
    ended = False

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the connection ended (even by a fault that skipped disconnect()),
            # the dispatcher must not keep it.
            self._leave()

    async def dispatch(self, message) -> None:
        # Not channels' own dispatch: it first sends every frame through Django's one sync
        # thread to close stale database connections. The database calls made here
        # (core.db) do that in their own threads, before and after each call.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
        # asgiref's sync_to_async swallows a cancellation that arrives while its thread
        # runs (it waits for the thread and returns its result); honour it here, or a
        # worker shutting down would wait for this connection for ever.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError

    # --- lifecycle -----------------------------------------------------------------------
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()  # before accept: the handshake is refused
            return
        # For the rest of this connection's task (and the database calls it makes), its
        # texts speak the person's language.
        translation.activate(socket_language(user, dict(self.scope.get("headers", []))))
        if self.scope.get("auth") == "bearer" and READ_SCOPE not in self.scope.get("auth_scopes", ()):
            # A sign-in token (openid profile, say) is not a key to the person's messages.
            metrics.REFUSED.labels(reason="scope").inc()
            await self.refuse(CLOSE_SCOPE, "not_permitted", _("This token's scope does not allow a connection; it needs read."))
            return
        self.channel_name = dispatch.connection_name()
        self.outbound = outbound_buffer(self.scope)
        self.ready = False
        self.early: list[dict] = []
        # What this connection was last told of each user's presence: the snapshot after
        # hello and a live change can say the same thing, and the client hears it once.
        self.presence_told: dict[int, str] = {}
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.presence_everyone = query.get("presence", [""])[-1] != "subscribe"
        dispatcher = dispatch.get_dispatcher()
        if not await dispatcher.ready():
            # The channel layer is unreachable: a socket now would hear nothing.
            await self.accept()
            await self.close(code=dispatch.CLOSE_TRY_AGAIN_LATER)
            return
        self.address = (self.scope.get("client") or [None])[0]
        refusal = self.over_limit(dispatcher, user)
        if refusal is not None:
            await self.refuse(CLOSE_TOO_MANY, "rate_limited", refusal)
            return
        self.user = user
        session = self.scope.get("session") if self.scope.get("auth") == "session" else None
        self.session_name = session_tag(session.session_key) if session is not None and session.session_key else None
        self.sends = send_bucket()
        self.frames = TokenBucket(settings.FRAME_RATE_BURST, settings.FRAME_RATE_PER_SECOND)
        self.typing_sent: dict[int, float] = {}
        self.sent_ids = RecentIds()
        self.auth_checked = time.monotonic()
        # Listening before hello, so that nothing stored after hello's last_message_id is
        # missed; what arrives meanwhile waits in self.early.
        self.dispatcher = dispatcher
        dispatcher.register(user.pk, self, self.address)
        metrics.CONNECTIONS.inc()
        await self.accept()
        try:
            if self.presence_everyone:
                self.watching_everyone = True
                await dispatcher.watch_everyone()
            await self.say_hello()
        except Exception:
            # Redis or the database went away while we said hello: the client is to
            # reconnect and sync, and disconnect() cleans up after us.
            logger.exception("opening a connection of user %s failed", user.pk)
            await self.close(code=dispatch.CLOSE_SERVICE_RESTART)
            return
        await self.become_ready()

    def over_limit(self, dispatcher: dispatch.Dispatcher, user) -> str | None:
        """Why this worker takes no more sockets of this user or address, if it does not.
        Checked and registered in one step of the event loop, so that a burst of
        handshakes cannot all slip under the limit together."""
        per_user, per_address = settings.SOCKET_LIMIT_PER_USER, settings.SOCKET_LIMIT_PER_ADDRESS
        if per_user and dispatcher.open_for(user.pk) >= per_user:
            metrics.REFUSED.labels(reason="user_limit").inc()
            return _("You have %(count)d connections open already; close some tabs or devices.") % {"count": per_user}
        if per_address and self.address is not None and dispatcher.open_from(self.address) >= per_address:
            metrics.REFUSED.labels(reason="address_limit").inc()
            return _("Too many connections from your network address; try again later.")
        return None

    async def refuse(self, code: int, error: str, detail: str) -> None:
        """Refuse a socket after the handshake, with a reason the client can read: an
        ``error`` frame, then the close code (a refused handshake would carry neither)."""
        await self.accept()
        await self.send_error(error, str(detail))
        await self.close(code=code)

    async def become_ready(self) -> None:
        """Hand over the events that waited while the connection was busy (saying hello,
        reading a presence snapshot), then take new ones as they come."""
        while self.early:
            await self.handle_event(self.early.pop(0))
        self.ready = True

    async def say_hello(self) -> None:
        headers = dict(self.scope.get("headers", []))
        hello = await db(services.connection_open)(
            user=self.user,
            channel_name=self.channel_name,
            worker=settings.SWITCHBOARD_WORKER_NAME,
            client=self.scope.get("client"),
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
            auth=self.scope.get("auth", "session"),
        )
        await self.send_frame(hello)
        connected = await presence.presence_connect(
            user=self.user, channel=self.channel_name, everyone=self.presence_everyone
        )
        await self.tell_presence(connected)

    async def tell_presence(self, frames: list[dict]) -> None:
        """Send a presence snapshot, skipping what this connection was already told."""
        for frame in frames:
            if self.presence_told.get(frame["user"]) != frame["status"]:
                self.presence_told[frame["user"]] = frame["status"]
                await self.send_frame(frame)

    async def disconnect(self, code: int) -> None:
        if self.user is None:
            return
        clearing = self._leave()
        try:
            await presence.presence_change(user=self.user, channel=self.channel_name, status=None)
        except Exception:
            # Redis away: the entry is removed when it is back (presence.worker_up).
            logger.warning("presence of a closed connection not updated", exc_info=True)
        await db(services.connection_close)(channel_name=self.channel_name)
        if clearing is not None:
            await clearing  # the worker's v1 mark, cleared before this connection is done

    def _leave(self) -> asyncio.Task | None:
        """Take this connection out of the dispatcher; the clearing of the worker's v1
        presence mark, if this was its last v1 connection."""
        clearing = None
        if self.dispatcher is not None:
            self.dispatcher.unregister(self.user.pk, self, self.address)
            self.dispatcher.subscribe(self, self.subscriptions, frozenset())
            if self.watching_everyone:
                self.watching_everyone = False
                clearing = self.dispatcher.unwatch_everyone()
            self.dispatcher = None
            metrics.CONNECTIONS.dec()
        return clearing

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
                await self.end(client_id)
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
        is still active, for a browser that the session was not signed out or made under
        an old password, and for a Bearer client that its token was not revoked. (Signing
        out, a password change and deactivation close the connections at once as well:
        ``connection_close``.)"""
        expires = self.scope.get("auth_expires")
        if expires is not None and timezone.now() >= expires:
            return False
        if time.monotonic() - self.auth_checked < AUTH_RECHECK_SECONDS:
            return True
        self.auth_checked = time.monotonic()
        session = self.scope.get("session") if self.scope.get("auth") == "session" else None
        user = await db(connection_user_get_valid)(
            user_id=self.user.pk,
            session_key=(session.session_key or "") if session is not None else None,
            token_id=self.scope.get("auth_token"),
        )
        if user is None:
            return False
        self.user = user
        return True

    async def on_send(self, frame: dict) -> None:
        if not self.sends.take():
            raise ApplicationError(_("You are sending too fast; wait a moment."), code="rate_limited")
        result = await get_send_queue().send(
            SendRequest(
                sender=self.user,
                client_id=frame.get("client_id"),
                conversation_id=frame.get("conversation"),
                to_user_id=frame.get("to"),
                app=frame.get("app", "chat"),
                body=frame.get("body"),
                origin=self.channel_name,
                reply_to=frame.get("reply_to"),
                forward=frame.get("forward"),
            )
        )
        self.sent_ids.add(result.message.pk)
        await self.send_frame(ack_frame(result.message))

    async def on_react(self, frame: dict) -> None:
        """A reaction given or taken back; its answer is the ``message_update`` every
        member's connections hear, this one's too."""
        if not self.sends.take():
            raise ApplicationError(_("You are sending too fast; wait a moment."), code="rate_limited")
        await db(services.message_react)(
            user=self.user, message_id=frame.get("message"), emoji=frame.get("emoji"), on=frame.get("on")
        )

    async def on_sync(self, frame: dict) -> None:
        """Replay what the client missed, a batch a turn (``replay``): other
        users' traffic goes on meanwhile, and a client slow to read waits outside its turn."""
        after = require_number(frame.get("after"), "after", minimum=0)
        turns = get_replay_turns()
        backlog: collections.deque[tuple[int, str]] = collections.deque()
        read_all = False
        while True:
            async with turns.turn(self.user.pk):
                if not backlog and not read_all:
                    batch = await db(selectors.message_frames_after)(user=self.user, after_id=after)
                    read_all = len(batch) < selectors.SYNC_BATCH
                    after = batch[-1][0] if batch else after
                    backlog.extend(batch)
                while backlog and not self.congested():
                    message_id, text = backlog.popleft()
                    if self.sent_ids.add(message_id):
                        await self.send(text_data=text)
            if read_all and not backlog:
                return
            if not await self.drained():
                return
            await asyncio.sleep(0)  # live traffic first

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
        await self.send_frame(PONG)

    async def on_presence(self, frame: dict) -> None:
        status = frame.get("status")
        if status not in (presence.ONLINE, presence.AWAY):
            raise ApplicationError(_("status must be online or away."), code="invalid")
        await presence.presence_change(user=self.user, channel=self.channel_name, status=status)

    async def on_presence_subscribe(self, frame: dict) -> None:
        """Follow the presence of these users (replacing the last list): the answer is
        ``presence_subscribed`` with those allowed, then each one's presence."""
        if self.presence_everyone:
            raise ApplicationError(
                _("This connection hears all its contacts' presence already; connect with ?presence=subscribe to choose."),
                code="invalid",
            )
        users = frame.get("users")
        if not isinstance(users, list):
            raise ApplicationError(_("users must be a list of user ids."), code="invalid")
        if len(users) > presence.MAX_SUBSCRIPTIONS:
            raise ApplicationError(
                _("At most %(count)d users at a time.") % {"count": presence.MAX_SUBSCRIPTIONS}, code="invalid"
            )
        wanted = [require_number(user_id, "users") for user_id in users]
        if self.dispatcher is None:
            return  # closing
        allowed = frozenset(await presence.presence_subscribable(user=self.user, user_ids=wanted))
        # Changes that arrive while the snapshot is read wait, so that none is overtaken by it.
        self.ready = False
        try:
            self.dispatcher.subscribe(self, self.subscriptions, allowed)
            for user_id in self.subscriptions - allowed:
                self.presence_told.pop(user_id, None)
            self.subscriptions = allowed
            await self.send_frame(presence_subscribed_frame(allowed))
            await self.tell_presence(await presence.presence_of(allowed))
        finally:
            await self.become_ready()

    FRAME_HANDLERS = {
        "send": on_send,
        "react": on_react,
        "sync": on_sync,
        "read": on_read,
        "typing": on_typing,
        "signal": on_signal,
        "ping": on_ping,
        "presence": on_presence,
        "presence_subscribe": on_presence_subscribe,
    }

    # --- events from the dispatcher -------------------------------------------------------
    async def deliver(self, event: dict) -> None:
        """An event for this connection's user, from any worker."""
        if self.ready:
            await self.handle_event(event)
        elif len(self.early) < EARLY_EVENTS:
            self.early.append(event)
        else:
            await self.cut_off_slow()

    async def handle_event(self, event: dict) -> None:
        # Named like a channel-layer handler: "message.new" -> message_new().
        handler = None if event["type"].startswith("_") else getattr(self, event["type"].replace(".", "_"), None)
        if handler is None:
            logger.warning("no handler for %s events", event["type"])
            return
        await handler(event)

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

    async def conversation_update(self, event: dict) -> None:
        await self.forward(event)

    async def signal_new(self, event: dict) -> None:
        await self.forward(event)
        metrics.RELAY_BYTES.inc(len(event["text"]))

    async def connection_close(self, event: dict) -> None:
        """The account's password changed or it was switched off (every connection of the
        user goes), or a browser session was signed out (``session`` names it: only the
        connections that rode on it go)."""
        session = event.get("session")
        if session is None or session == self.session_name:
            await self.end()

    async def end(self, client_id: str | None = None) -> None:
        """What this connection rode on has ended: say so and close (4401)."""
        if self.ended:
            return
        self.ended = True
        await self.send_error("unauthenticated", _("Your session has ended; sign in again."), client_id)
        await self.close(code=CLOSE_UNAUTHENTICATED)

    app_event = forward
    receipt_new = forward
    typing_new = forward

    async def presence_changed(self, event: dict) -> None:
        if not self.presence_everyone and event["user"] not in self.subscriptions:
            return  # sent to every watcher, for the v1 connections among them
        if self.presence_told.get(event["user"]) == event["status"]:
            return
        self.presence_told[event["user"]] = event["status"]
        await self.forward(event)

    # --- sending ---------------------------------------------------------------------------
    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        if self.cut_off:
            return
        if self.outbound is not None and self.outbound.unsent() > settings.SLOW_CLIENT_MAX_BYTES:
            await self.cut_off_slow()
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except (ValueError, Disconnected):
            # The client went away mid-send (Daphne's socket says "Attempt to send on a
            # closed protocol"); its disconnect is on the way and cleans up.
            pass

    async def close(self, code=None, reason=None) -> None:
        if self.outbound is not None and self.outbound.unsent() > settings.SLOW_CLIENT_MAX_BYTES:
            # A close frame would wait behind what the client does not read.
            await self.cut_off_slow()
            return
        await super().close(code=code, reason=reason)

    def congested(self) -> bool:
        """Whether half the slow-client limit is unsent: a replay waits, leaving the other
        half for live events."""
        return self.outbound is not None and self.outbound.unsent() > settings.SLOW_CLIENT_MAX_BYTES // 2

    async def drained(self) -> bool:
        """Before each frame of a long reply the client asked for (a sync): wait while
        half the limit is unsent, leaving the other half for live events. False when the
        connection is gone or was cut off meanwhile."""
        if self.outbound is None:
            return not self.cut_off
        deadline = time.monotonic() + DRAIN_PATIENCE_SECONDS
        while self.congested():
            if self.cut_off or self.outbound.closed:
                return False
            if time.monotonic() > deadline:
                await self.cut_off_slow()
                return False
            await asyncio.sleep(0.02)
        return not (self.cut_off or self.outbound.closed)

    async def cut_off_slow(self) -> None:
        """The client is not reading: drop the connection rather than hold its events.
        It reconnects and catches up with sync; disconnect() cleans up."""
        if self.cut_off:
            return
        self.cut_off = True
        metrics.DROPPED.labels(kind="slow_client").inc()
        logger.info("cut off a slow client of user %s", self.user.pk if self.user else None)
        if self.outbound is not None:
            self.outbound.abort("slow client")
        else:
            await self.close(code=dispatch.CLOSE_TRY_AGAIN_LATER)

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))

    async def send_error(self, code: str, detail: str, client_id: str | None = None) -> None:
        metrics.ERRORS.labels(code=code).inc()
        await self.send_frame(error_frame(code, detail, client_id))
