"""Who is on the other end of a WebSocket.

Browsers use their session cookie, so the ``Origin`` must be the site's own, exactly
(scheme, host and port: what Django's CSRF check takes as the site), or one listed in
``CSRF_TRUSTED_ORIGINS``: a page elsewhere, even on another port of the same host, must
not ride on the cookie. Other clients send ``Authorization: Bearer <token>``; that
carries no ambient credential, so no Origin is needed, and the token's scopes travel in
the scope for the consumer to check.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

from accounts.selectors import access_token_get_valid
from core.db import db

DEFAULT_PORTS = {"http": 80, "https": 443}


def _bearer_token(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _sep, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""
    return None


def _origin(value: str) -> tuple[str, str, int | None] | None:
    """An origin as (scheme, host, port), the port filled in where it is the default."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def site_origin(scope) -> tuple[str, str, int | None] | None:
    """The origin of the site this socket was opened on: its ``Host`` (one of
    ``ALLOWED_HOSTS``) and its scheme, which behind the proxy is what ``X-Forwarded-Proto``
    says."""
    headers = dict(scope.get("headers", []))
    host = headers.get(b"host", b"").decode("latin-1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = scope.get("scheme") == "wss"
    if settings.BEHIND_PROXY and b"x-forwarded-proto" in headers:
        secure = headers[b"x-forwarded-proto"].split(b",")[0].strip().lower() == b"https"
    return _origin(f"{'https' if secure else 'http'}://{host}")


def _trusted(origin: tuple[str, str, int | None], pattern: str) -> bool:
    """Django's reading of a ``CSRF_TRUSTED_ORIGINS`` entry: exact, or ``*.`` for any
    subdomain."""
    wildcard = "://*." in pattern
    wanted = _origin(pattern.replace("://*.", "://", 1))
    if wanted is None or (origin[0], origin[2]) != (wanted[0], wanted[2]):
        return False
    return origin[1] == wanted[1] or (wildcard and origin[1].endswith("." + wanted[1]))


def origin_allowed(scope) -> bool:
    headers = dict(scope.get("headers", []))
    if b"origin" not in headers:
        return False
    origin = _origin(headers[b"origin"].decode("latin-1"))
    if origin is None:
        return False
    return origin == site_origin(scope) or any(_trusted(origin, p) for p in settings.CSRF_TRUSTED_ORIGINS)


# Token look-ups in flight at once on one worker: a storm of handshakes waits here instead
# of taking every thread of the database pool from the sends of people already connected.
LOOKUPS_AT_ONCE = 3
_lookups: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _lookup_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _lookups.get(loop)
    if slots is None:
        _lookups.clear()  # a worker has one loop; tests start a new one each
        slots = _lookups[loop] = asyncio.Semaphore(LOOKUPS_AT_ONCE)
    return slots


class WebSocketAuthMiddleware:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.browser = AuthMiddlewareStack(inner)

    async def __call__(self, scope, receive, send):
        token = _bearer_token(scope)
        if token is None:
            if not origin_allowed(scope):
                return await WebsocketDenier()(scope, receive, send)
            return await self.browser({**scope, "auth": "session"}, receive, send)
        access_token = None
        if token:
            async with _lookup_slots():
                access_token = await db(access_token_get_valid)(token)
        return await self.inner(
            {
                **scope,
                "user": access_token.user if access_token else AnonymousUser(),
                "auth": "bearer",
                "auth_expires": access_token.expires if access_token else None,
                "auth_token": access_token.pk if access_token else None,
                "auth_scopes": frozenset(access_token.scope.split()) if access_token else frozenset(),
            },
            receive,
            send,
        )
