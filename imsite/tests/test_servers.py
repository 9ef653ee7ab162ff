"""The servers a worker runs under: every way the project starts uvicorn bounds a
WebSocket message as Daphne does, and a flood of oversized frames leaves a real worker of
either server as it was."""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections import Counter
from pathlib import Path

import pytest
import websockets

from imsite.testing.servers import ROOT, WS_MAX_MESSAGE_BYTES, ServerProcess, worker_command

FLOOD_FRAMES = 30
FLOOD_FRAME_BYTES = 16 * 2**20  # uvicorn's own default limit
AT_ONCE = 10
MOST_GROWTH_BYTES = 100 * 2**20
CLOSE_MESSAGE_TOO_BIG, CLOSE_DROPPED = 1009, 1006
# uvicorn closes with 1009; Daphne's autobahn drops the connection without a closing
# handshake (its failByDrop), which the client sees as 1006. Either refuses the frame
# unread; a socket left open (None) means the worker took it.
REFUSED = {"uvicorn": {CLOSE_MESSAGE_TOO_BIG}, "daphne": {CLOSE_MESSAGE_TOO_BIG, CLOSE_DROPPED}}


def test_daphnes_limit_is_the_one_named():
    from daphne.cli import CommandLineInterface
    from daphne.server import Server

    parameters = inspect.signature(Server.__init__).parameters
    assert parameters["websocket_max_message_size"].default == WS_MAX_MESSAGE_BYTES
    assert parameters["websocket_max_frame_size"].default == WS_MAX_MESSAGE_BYTES
    cli = CommandLineInterface().parser.parse_args(["imsite.asgi:application"])
    assert cli.websocket_max_message_size == cli.websocket_max_frame_size == WS_MAX_MESSAGE_BYTES


def ws_max_size(command: str) -> int | None:
    match = re.search(r"--ws-max-size[ =](\d+)", command)
    return int(match.group(1)) if match else None


def test_every_uvicorn_command_bounds_messages_as_daphne_does():
    assert ws_max_size(" ".join(worker_command("uvicorn", "127.0.0.1", 8000))) == WS_MAX_MESSAGE_BYTES
    procfile = {
        name: command for name, command in re.findall(r"^([\w-]+):(.*)$", (ROOT / "Procfile").read_text(), re.MULTILINE)
    }
    assert ws_max_size(procfile["web-uvicorn"]) == WS_MAX_MESSAGE_BYTES
    # The deployment guide's unit, and any other command of the docs that starts uvicorn.
    documented = {}
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        text = path.read_text().replace("\\\n", " ")
        for command in re.findall(r"^.*bin/uvicorn .*$", text, re.MULTILINE):
            documented[command] = path.name
    assert "deploy.md" in documented.values()
    for command, name in documented.items():
        assert ws_max_size(command) == WS_MAX_MESSAGE_BYTES, (name, command)


# --- a real worker under each server ------------------------------------------------------


def resident_bytes(pid: int) -> int:
    """VmRSS of a process and of all its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1)) * 1024
        for task in Path(f"/proc/{current}/task").iterdir():
            try:
                pending += [int(child) for child in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue
    return total


async def oversized_frame(url: str, token: str, payload: str) -> int | None:
    """Send one frame far past the limit; how the server ended the socket: 1009 (message
    too big) or 1006 (dropped without a closing handshake, as Daphne's autobahn fails a
    connection), None when it kept the socket open."""
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10, close_timeout=2
    ) as ws:
        try:
            async with asyncio.timeout(5):
                await ws.send(payload)
                async for _frame in ws:
                    pass
        except websockets.ConnectionClosed:
            pass
        except TimeoutError:
            return None
        return ws.close_code


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("asgi_server", ["daphne", "uvicorn"])
async def test_oversized_frames_are_refused_before_they_cost_memory(demo, services_env, tmp_path, asgi_server):
    from messaging.tests.realclients import WsClient, token_for

    worker = ServerProcess(f"flooded-{asgi_server}", services_env, tmp_path, asgi_server=asgi_server)
    try:
        await asyncio.to_thread(worker.wait_ready)
        tokens = [await token_for(demo[name]) for name in ("alice", "bob", "carol", "dave", "erin")]
        # Warm the worker up (a socket, the database, Redis) so that the baseline is a
        # working worker's.
        warm = await WsClient.open(worker.ws_url, tokens[0])
        await warm.send({"type": "ping"})
        await warm.recv_type("pong")
        await warm.ws.close()
        before = resident_bytes(worker.pid)

        # The worker's memory while the frames arrive (its peak) and after.
        peak = before
        flooding = True

        async def watch() -> None:
            nonlocal peak
            while flooding:
                peak = max(peak, resident_bytes(worker.pid))
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch())
        payload = "x" * FLOOD_FRAME_BYTES
        started = time.monotonic()
        codes = []
        for first in range(0, FLOOD_FRAMES, AT_ONCE):
            batch = range(first, first + AT_ONCE)
            codes += await asyncio.gather(
                *(oversized_frame(worker.ws_url, tokens[n % len(tokens)], payload) for n in batch)
            )
        took = time.monotonic() - started
        await asyncio.sleep(1)
        flooding = False
        await watcher
        after = resident_bytes(worker.pid)

        growth = (
            f"{asgi_server}: {before / 2**20:.0f} MiB before, {peak / 2**20:.0f} MiB at most during"
            f" {took:.1f} s of flood, {after / 2**20:.0f} MiB after"
        )
        assert set(codes) <= REFUSED[asgi_server], f"{Counter(codes)}; {growth}"
        assert peak - before < MOST_GROWTH_BYTES, growth
        assert after - before < MOST_GROWTH_BYTES, growth
        assert took < 40, growth

        # And the worker serves an ordinary client as before.
        client = await WsClient.open(worker.ws_url, tokens[1])
        await client.send({"type": "ping"})
        assert (await client.recv_type("pong"))["type"] == "pong"
        await client.ws.close()
    finally:
        worker.stop()
