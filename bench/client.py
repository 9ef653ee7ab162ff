"""Simulated clients: one WebSocket per user, protocol v1, a Bearer token each.

Every timestamp is ``time.perf_counter()`` in the load generator's process, so a latency
is the time from a ``send`` frame leaving one client to the ``message`` frame reaching
another, both measured on the same clock.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import urllib.request
from pathlib import Path

import websockets
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus


class BenchClient:
    def __init__(self, user: dict, ws, hello: dict) -> None:
        self.user = user
        self.ws = ws
        self.server = hello.get("server")
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "") if ws.response else ""
        self.deflate = "permessage-deflate" in extensions
        # client_id -> arrival time of the message frame / of our ack / the error code.
        self.received: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.errors: list[str] = []
        self.duplicates = 0
        self.last_frame_at = time.perf_counter()
        self.closing = False
        self.closed_early = False
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                self.last_frame_at = now
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    key = frame.get("client_id")
                    if key in self.received:
                        self.duplicates += 1
                    else:
                        self.received[key] = now
                elif kind == "ack":
                    self.acked[frame.get("client_id")] = now
                elif kind == "error":
                    self.errors.append(frame.get("code", "?"))
                    if frame.get("client_id"):
                        self.failed[frame["client_id"]] = frame.get("code", "?")
        except ConnectionClosed:
            pass
        if not self.closing:
            self.closed_early = True

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame, separators=(",", ":")))

    async def close(self) -> None:
        self.closing = True
        await self.ws.close()
        if self.task is not None:
            await self.task


PRESENCE_MODES = ("subscribe", "v1")


def ws_url(url: str, presence: str = "v1") -> str:
    """The WebSocket address; with ``presence="subscribe"`` the connection hears no one's
    presence unasked (docs/protocol.md), and these clients ask for no one's."""
    query = "?presence=subscribe" if presence == "subscribe" else ""
    return url.replace("http", "ws", 1).rstrip("/") + "/ws/" + query


async def connect_one(url: str, user: dict, *, deflate: bool = False, presence: str = "v1") -> BenchClient:
    ws = await websockets.connect(
        ws_url(url, presence),
        additional_headers={"Authorization": f"Bearer {user['token']}"},
        # A browser offers permessage-deflate; a native client may not.
        compression="deflate" if deflate else None,
        # Browsers send no WebSocket pings of their own.
        ping_interval=None,
        max_queue=None,
        open_timeout=60,
        proxy=None,
    )
    hello = json.loads(await ws.recv())
    if hello.get("type") != "hello":
        await ws.close()
        raise RuntimeError(f"expected hello, got {hello.get('type')!r}")
    client = BenchClient(user, ws, hello)
    client.start()
    return client


async def connect_all(
    urls: list[str], users: list[dict], *, deflate: bool = False, presence: str = "v1", concurrency: int = 20
) -> tuple[list[BenchClient], float, list[str]]:
    """Connect every user, spread round-robin over ``urls``; the clients in users' order,
    the seconds it took and the failures."""
    semaphore = asyncio.Semaphore(concurrency)
    failures: list[str] = []

    async def one(index: int, user: dict) -> BenchClient | None:
        async with semaphore:
            try:
                return await connect_one(urls[index % len(urls)], user, deflate=deflate, presence=presence)
            except InvalidStatus as error:
                status = error.response.status_code
                hint = " (tokens live 15 minutes: run bench_users --tokens again)" if status in (401, 403) else ""
                failures.append(f"HTTP {status}{hint}")
            # InvalidMessage: the server dropped the handshake (Daphne does after 5 s unanswered).
            except (OSError, asyncio.TimeoutError, RuntimeError, ConnectionClosed, InvalidMessage) as error:
                failures.append(f"{type(error).__name__}: {error}")
            return None

    started = time.perf_counter()
    clients = await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    return [c for c in clients if c is not None], time.perf_counter() - started, failures


async def close_all(clients: list[BenchClient], concurrency: int = 50) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(client: BenchClient) -> None:
        async with semaphore:
            await client.close()

    await asyncio.gather(*(one(c) for c in clients))


async def settle(clients: list[BenchClient], *, quiet: float = 1.0, limit: float = 30.0) -> float:
    """Wait until no client has heard anything for ``quiet`` seconds (the presence of a
    burst of connections has been fanned out), at most ``limit``; the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        latest = max((c.last_frame_at for c in clients), default=0.0)
        if time.perf_counter() - latest >= quiet:
            break
        await asyncio.sleep(0.1)
    return round(time.perf_counter() - started, 2)


async def wait_until(predicate, limit: float) -> bool:
    deadline = time.perf_counter() + limit
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank on the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


def summary_ms(values: list[float]) -> dict:
    """p50/p95/p99/mean/max of latencies in milliseconds (all null without values)."""
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": round(statistics.fmean(values), 2) if values else None,
        "max": round(max(values), 2) if values else None,
    }


def server_rss_mb(pids: list[int]) -> float | None:
    """The resident memory of the server processes together, from /proc."""
    if not pids:
        return None
    total_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        total_kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return round(total_kb / 1024, 1)


def department_conversation(url: str, token: str) -> tuple[int, set[int]] | None:
    """The user's department conversation and its members, through the REST API."""
    request = urllib.request.Request(
        url.rstrip("/") + "/api/v1/conversations/", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        conversations = json.load(response)
    for conversation in conversations:
        if conversation["kind"] == "department":
            return conversation["id"], {member["id"] for member in conversation["members"]}
    return None
