from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from accounts.services import token_issue_for_user
from imsite.asgi import application
from messaging.frames import check_frame
from messaging.realtime import presence


@pytest.fixture(autouse=True)
def _fresh_realtime_state():
    """Each test gets its own presence registry and a clean Redis database when one is used."""
    presence.get_presence.cache_clear()
    if settings.REDIS_URLS:
        import redis

        for url in settings.REDIS_URLS:
            redis.Redis.from_url(url).flushdb()
    yield
    presence.get_presence.cache_clear()


class Client:
    """A protocol v1 client over the real ASGI application."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator
        self.hello: dict | None = None

    async def send(self, frame) -> None:
        await self.ws.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 2) -> dict:
        frame = json.loads(await self.ws.receive_from(timeout=timeout))
        check_frame(frame)  # every frame a test receives has its protocol shape
        return frame

    async def recv_type(self, kind: str, timeout: float = 2) -> dict:
        """The next frame of a type, skipping presence frames and others on the way."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == kind:
                return frame

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.ws.receive_nothing(timeout=timeout)

    async def no(self, kind: str) -> bool:
        """True when nothing of this type arrives (other frames are read and dropped)."""
        return all(frame["type"] != kind for frame in await self.drain())

    async def answers(self, count: int) -> list[dict]:
        """The next ``count`` acks and errors, in order."""
        found = []
        while len(found) < count:
            frame = await self.recv()
            if frame["type"] in ("ack", "error"):
                found.append(frame)
        return found

    async def drain(self) -> list[dict]:
        frames = []
        while not await self.ws.receive_nothing(timeout=0.2):
            frames.append(await self.recv())
        return frames

    async def close(self) -> None:
        await self.ws.disconnect()


@pytest.fixture
def connect():
    opened: list[Client] = []

    async def open_(user=None, *, headers=None, expect_hello=True, path="/ws/") -> Client | None:
        if headers is None:
            token = await database_sync_to_async(token_issue_for_user)(user=user)
            headers = [(b"authorization", f"Bearer {token['access_token']}".encode())]
        communicator = WebsocketCommunicator(application, path, headers=headers)
        communicator.scope["client"] = ["127.0.0.1", 40000 + len(opened)]
        connected, _code = await communicator.connect(timeout=5)
        if not connected:
            return None
        client = Client(communicator)
        opened.append(client)
        if expect_hello:
            client.hello = await client.recv_type("hello")
        return client

    yield open_
    # Communicators are closed by each test; a leftover one is closed with its event loop.
