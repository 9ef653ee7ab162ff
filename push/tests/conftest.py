"""A test push service on loopback and browsers that subscribe to it as real ones do.

The push service is a threaded HTTP server on 127.0.0.1 that records every POST. A
``Browser`` makes its keys as a browser does (a P-256 key pair and a 16-byte auth
secret); ``Browser.open`` checks a received push the way a push service and a browser
would: the VAPID ``Authorization`` header (ES256 over the JWT with the key it names,
which must be the site's; ``aud`` the endpoint's origin; ``exp`` within 24 hours; ``sub``
set), and the body decrypted (aes128gcm, RFC 8291) with the browser's private key."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from messaging.realtime import presence


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class PushService:
    """Records every POST; answers ``status[path]`` (201 unless told otherwise)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status: dict[str, int] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(service.status.get(self.path, 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def endpoint(self) -> str:
        return f"{self.origin}/push/{uuid.uuid4().hex}"

    def to(self, browser: Browser) -> list[Received]:
        return [r for r in self.received if self.origin + r.path == browser.endpoint]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """One browser's push subscription, its keys made as a browser makes them."""

    def __init__(self, service: PushService) -> None:
        self.service = service
        self.endpoint = service.endpoint()
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def pushes(self) -> list[dict]:
        """Every push this browser received, checked and decrypted: its payload, with the
        request's headers under ``_headers``."""
        return [self.open(received) for received in self.service.to(self)]

    def open(self, received: Received) -> dict:
        import http_ece
        from django.conf import settings

        from push.keys import public_key

        headers = received.headers
        # VAPID (RFC 8292): `vapid t=<JWT>, k=<the site's public key>`.
        scheme, _space, params = headers["authorization"].partition(" ")
        assert scheme == "vapid"
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert fields["k"] == public_key()
        signing_input, _dot, signature = fields["t"].rpartition(".")
        header_b64, _dot, claims_b64 = signing_input.partition(".")
        assert json.loads(unb64url(header_b64))["alg"] == "ES256"
        raw = unb64url(signature)
        assert len(raw) == 64
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        key.verify(
            encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
            signing_input.encode(),
            ec.ECDSA(hashes.SHA256()),
        )  # raises InvalidSignature
        claims = json.loads(unb64url(claims_b64))
        assert claims["aud"] == self.service.origin
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600
        assert claims["sub"] == settings.VAPID_SUBJECT
        # The body: aes128gcm, with the server's one-off public key as the header's key id,
        # which http_ece takes as the other side of the key agreement (its ``dh``).
        assert headers["content-encoding"] == "aes128gcm"
        body = received.body
        id_length = body[20]
        sender_key = body[21 : 21 + id_length]
        assert len(sender_key) == 65 and sender_key[0] == 4
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        payload = json.loads(plain)
        assert set(payload) == {"title", "body", "url", "tag"}
        assert all(isinstance(value, str) for value in payload.values())
        payload["_headers"] = headers
        return payload


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


@pytest.fixture(autouse=True)
def _pushes_at_once():
    """Each commit's messages are handed to the push tasks at once (Celery is eager in tests)."""
    from push.services import pushes

    pushes.mode = "now"
    yield
    pushes.mode = "manual"


@pytest.fixture(autouse=True)
def _push_settings(settings):
    settings.PUSH_ALLOW_HTTP_LOOPBACK = True
    settings.VAPID_SUBJECT = "mailto:it@switchboard.example.com"
    settings.PUSH_COLLAPSE_SECONDS = 10
    settings.PUSH_MAX_FAILURES = 3


def _presence_clear() -> None:
    from django.conf import settings

    presence.get_presence.cache_clear()
    if settings.REDIS_URLS:
        import redis

        for url in settings.REDIS_URLS:
            with redis.Redis.from_url(url) as client:
                keys = [*client.scan_iter("sb:presence:*"), *client.scan_iter("sb:worker:*")]
                if keys:
                    client.delete(*keys)


@pytest.fixture(autouse=True)
def _fresh_presence():
    """No socket open anywhere: this process's in-memory registry (SQLite) or the test's
    Redis emptied of presence entries and workers' beats."""
    _presence_clear()
    yield
    _presence_clear()


@pytest.fixture
def subscribe(api_for, push_service):
    """A browser of ``user`` subscribed through the API, as the settings page does."""

    def make(user) -> Browser:
        browser = Browser(push_service)
        response = api_for(user).post("/api/v1/push/subscriptions/", browser.subscription(), format="json")
        assert response.status_code == 201, response.content
        return browser

    return make


def socket(user, status: str = "online", channel: str = "test-socket") -> None:
    """``user`` has a socket open (its presence entry, as a worker's registry writes it)."""
    from django.conf import settings

    if not settings.REDIS_URLS:
        from asgiref.sync import async_to_sync

        async_to_sync(presence.get_presence().set)(user.pk, channel, status)
        return
    # With Redis, the entry and the live worker's beat written here: a registry's own
    # heartbeat task would outlive the event loop of one call.
    import redis

    worker = settings.SWITCHBOARD_WORKER_NAME
    registry = presence.RedisPresence(settings.REDIS_URLS, worker)
    client = redis.Redis.from_url(settings.REDIS_URLS[registry._shard(user.pk)])
    first = redis.Redis.from_url(settings.REDIS_URLS[0])
    try:
        client.hset(registry._key(user.pk), channel, f"{status}|{worker}")
        first.set(registry._worker_key(worker), str(time.time()), ex=presence.HEARTBEAT_TTL)
    finally:
        client.close()
        first.close()
