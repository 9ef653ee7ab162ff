"""Who is on the other end of a WebSocket.

Browsers use their session cookie, so the Origin must be one of the site's own hosts
(a page elsewhere must not ride on the cookie). Other clients send
``Authorization: Bearer <token>``; that carries no ambient credential, so no Origin is
needed.
"""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from imsite.db import db
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from accounts.selectors import access_token_get_valid


def _bearer_token(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _sep, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""
    return None


class WebSocketAuthMiddleware:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.browser = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def __call__(self, scope, receive, send):
        token = _bearer_token(scope)
        if token is None:
            return await self.browser({**scope, "auth": "session"}, receive, send)
        access_token = await db(access_token_get_valid)(token) if token else None
        return await self.inner(
            {
                **scope,
                "user": access_token.user if access_token else AnonymousUser(),
                "auth": "bearer",
                "auth_expires": access_token.expires if access_token else None,
                "auth_scopes": frozenset(access_token.scope.split()) if access_token else frozenset(),
            },
            receive,
            send,
        )
