"""Protocol v1 clients and services for tests against real server processes."""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import redis
import websockets
from channels.db import database_sync_to_async
from django.core.management import call_command

from accounts.models import User
from accounts.services import token_issue_for_user
from imsite.testing.servers import ServerProcess, free_port
from messaging.frames import check_frame


class WsClient:
    """One socket to a real worker."""

    def __init__(self, ws, hello: dict) -> None:
        self.ws = ws
        self.hello = hello

    @classmethod
    async def open(cls, url: str, token: str) -> WsClient:
        ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10)
        client = cls(ws, {})
        client.hello = await client.recv_type("hello")
        return client

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    @staticmethod
    def checked(text: str) -> dict:
        """A frame from the worker, held to its protocol shape (messaging.frames)."""
        frame = json.loads(text)
        check_frame(frame)
        return frame

    async def recv_type(self, kind: str, timeout: float = 10) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                frame = self.checked(await self.ws.recv())
                if frame["type"] == kind:
                    return frame

    async def frames_of(self, kind: str, quiet: float = 0.5) -> list[dict]:
        """Every frame of a type until nothing arrives for ``quiet`` seconds."""
        found = []
        while True:
            try:
                async with asyncio.timeout(quiet):
                    frame = self.checked(await self.ws.recv())
            except TimeoutError:
                return found
            if frame["type"] == kind:
                found.append(frame)

    async def closed_by_server(self, timeout: float = 20) -> int:
        """Read until the server closes the socket; its close code."""
        async with asyncio.timeout(timeout):
            try:
                async for _frame in self.ws:
                    pass
            except websockets.ConnectionClosed:
                pass
        received = self.ws.protocol.close_rcvd
        assert received is not None, "the socket dropped without a close frame"
        return received.code


@database_sync_to_async
def token_for(user: User) -> str:
    return token_issue_for_user(user=user)["access_token"]


@database_sync_to_async
def bench_department(count: int) -> tuple[list[tuple[User, str]], int]:
    """``count`` users in one department that sees itself, each with a token; the id of
    the department's conversation."""
    from messaging.models import Conversation

    call_command("bench_users", count=count, stdout=io.StringIO())
    users = list(User.objects.filter(username__startswith="bench").order_by("username"))
    conversation = Conversation.objects.get(kind=Conversation.Kind.DEPARTMENT, department__code="bench")
    return [(user, token_issue_for_user(user=user)["access_token"]) for user in users], conversation.pk


def metric(server, name: str) -> float:
    """A sample's value on a worker's /metrics (0 when absent)."""
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"not so after {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


class RedisServer:
    """A private redis-server on a free port that keeps nothing on disk, to be killed and
    started again; never the machine's shared one."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: {self.log_path.read_text()[-2000:]}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def UvicornProcess(name: str, env: dict[str, str], log_dir: Path) -> ServerProcess:
    """A worker under uvicorn, as the Procfile's ``web-uvicorn`` runs it."""
    return ServerProcess(name, env, log_dir, asgi_server="uvicorn")
