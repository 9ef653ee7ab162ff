"""How much a WebSocket client has not taken yet: the server's outgoing buffer, seen from the app.

ASGI gives an application no back-pressure of its own, and the two servers Switchboard
runs under fail in opposite ways when a client stops reading:

- Daphne (Twisted and autobahn): ``websocket.send`` returns at once and the bytes pile up
  in the connection's transport buffer without bound. Only that Twisted transport knows
  how much is unsent, and Daphne keeps it on its protocol object, out of the scope.
  Daphne calls each application instance with ``send = functools.partial(
  server.handle_reply, protocol)``, which is how :func:`outbound_buffer_for` finds it.
- uvicorn (asyncio): ``send`` is a method of the connection's protocol and *waits* while
  the asyncio transport's buffer is over its high-water mark (64 KiB by default). The
  worker's dispatcher, which hands each event to every local socket in turn, would wait
  with it: one client that stops reading would hold up every other socket of the worker.
  Here the probe raises the transport's water marks to the limit (both, so that "paused"
  means "over the limit"), and the consumer cuts the client off before a send can wait.

:class:`OutboundBufferMiddleware`, outermost on the WebSocket stack (``imsite.asgi``),
puts the probe into the scope's ``extensions``; the consumer asks it how many bytes wait
and drops the connection past ``SLOW_CLIENT_MAX_BYTES``. Nothing in either server is
patched, and their command lines are unchanged. Under anything else (the test
communicator, say) there is no probe and so no limit.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

EXTENSION = "switchboard.outbound_buffer"


class OutboundBuffer(Protocol):
    """The outgoing side of one WebSocket connection."""

    def unsent(self) -> int:
        """Bytes handed to the connection that its socket has not taken yet."""
        ...

    @property
    def closed(self) -> bool: ...

    def abort(self, reason: str) -> None:
        """Drop the TCP connection now, with what is buffered: a close frame would only
        queue behind the bytes the client is not reading."""
        ...


class DaphneBuffer:
    """A Daphne (Twisted) connection's."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol) -> None:
        self._protocol = protocol

    def unsent(self) -> int:
        total = 0
        transport = self._protocol.transport
        # A TLS transport wraps the TCP one: both may hold bytes.
        for _depth in range(4):
            if transport is None:
                break
            if _is_file_descriptor(transport):
                # twisted.internet.abstract.FileDescriptor: dataBuffer[offset:] is being
                # written, _tempDataBuffer (_tempDataLen bytes) waits behind it.
                total += len(transport.dataBuffer) - transport.offset + transport._tempDataLen
            transport = getattr(transport, "transport", None)
        return total

    @property
    def closed(self) -> bool:
        return self._protocol.state == self._protocol.STATE_CLOSED

    def abort(self, reason: str) -> None:
        self._protocol.wasNotCleanReason = reason
        self._protocol.dropConnection(abort=True)


class AsyncioBuffer:
    """An asyncio server's (uvicorn) connection's, through its public transport API."""

    __slots__ = ("_transport",)

    def __init__(self, transport, limit: int) -> None:
        self._transport = transport
        # The server's send waits while the protocol is paused; with both marks at the
        # limit it is paused exactly while more than the limit is unsent, which the
        # consumer checks before every send.
        transport.set_write_buffer_limits(high=limit, low=limit)

    def unsent(self) -> int:
        return self._transport.get_write_buffer_size()

    @property
    def closed(self) -> bool:
        return self._transport.is_closing()

    def abort(self, reason: str) -> None:
        self._transport.abort()


def _is_file_descriptor(transport) -> bool:
    return all(hasattr(transport, name) for name in ("dataBuffer", "offset", "_tempDataLen"))


def outbound_buffer_for(send) -> OutboundBuffer | None:
    """The buffer behind a server's ``send`` callable, or None when it cannot be seen."""
    if isinstance(send, functools.partial):
        return _daphne_buffer(send)
    transport = getattr(send.__self__, "transport", None) if inspect.ismethod(send) else None
    # By what it offers, not its class: uvloop's transports are not asyncio's subclasses.
    if all(hasattr(transport, name) for name in _ASYNCIO_TRANSPORT):
        return AsyncioBuffer(transport, settings.SLOW_CLIENT_MAX_BYTES)
    return None


_ASYNCIO_TRANSPORT = ("get_write_buffer_size", "set_write_buffer_limits", "is_closing", "abort")


def _daphne_buffer(send: functools.partial) -> OutboundBuffer | None:
    if len(send.args) != 1:
        return None
    try:
        from daphne.server import Server
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover - Daphne is a requirement
        return None
    server, protocol = getattr(send.func, "__self__", None), send.args[0]
    if not isinstance(server, Server) or not isinstance(protocol, WebSocketProtocol):
        return None
    buffer = DaphneBuffer(protocol)
    try:
        buffer.unsent()
    except AttributeError:
        # Twisted's buffer moved: run without the limit rather than fail every socket.
        logger.warning("cannot read Daphne's outgoing buffer; slow clients will not be cut off")
        return None
    return buffer


class OutboundBufferMiddleware:
    """Offers the connection's :class:`OutboundBuffer` as a scope extension."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        buffer = outbound_buffer_for(send)
        if buffer is not None:
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), EXTENSION: buffer}}
        return await self.inner(scope, receive, send)


def outbound_buffer(scope) -> OutboundBuffer | None:
    return (scope.get("extensions") or {}).get(EXTENSION)
