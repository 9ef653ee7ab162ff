"""A client that stops reading is cut off before its worker holds much for it."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import uuid

import pytest

from imsite.testing.servers import ServerProcess

from .realclients import UvicornProcess, WsClient, metric, token_for, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

LIMIT = 256 * 1024
SIGNAL_BYTES = 48 * 1024


def silent_socket(port: int, token: str) -> socket.socket:
    """A WebSocket that says hello and then never reads, with a tiny receive window, so
    that what the server sends piles up on the server's side."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def read_until_closed(sock: socket.socket, most: int) -> bool:
    """Whether the server ends the connection before ``most`` bytes have been read."""
    read = 0
    try:
        while read < most:
            chunk = sock.recv(65536)
            if not chunk:
                return True
            read += len(chunk)
    except ConnectionResetError:
        return True
    return False


@pytest.mark.parametrize("server_class", [ServerProcess, UvicornProcess], ids=["daphne", "uvicorn"])
async def test_a_client_that_stops_reading_is_cut_off_and_the_others_carry_on(
    demo, services_env, tmp_path, server_class
):
    env = {
        **services_env,
        "SLOW_CLIENT_MAX_BYTES": str(LIMIT),
        # The flood comes from one connection; its own limits are not under test.
        "FRAME_RATE_BURST": "100000",
        "FRAME_RATE_PER_SECOND": "100000",
    }
    worker = server_class("worker-s", env, tmp_path)
    try:
        worker.wait_ready()
        bob_token = await token_for(demo["bob"])
        alice = await WsClient.open(worker.ws_url, await token_for(demo["alice"]))
        lead = await WsClient.open(worker.ws_url, await token_for(demo["dev_lead"]))
        silent = await asyncio.to_thread(silent_socket, worker.port, bob_token)
        await wait_for(lambda: metric(worker, "switchboard_connections") == 3, 10, "three sockets open")

        # Signals to bob, far more than the kernel's socket buffers take, until the server
        # gives up on him.
        blob = "x" * SIGNAL_BYTES
        slow = 'switchboard_dropped_events_total{kind="slow_client"}'
        sent = 0
        while metric(worker, slow) == 0:
            assert sent < 1000, "the silent client was never cut off"
            for _ in range(20):
                await alice.send({"type": "signal", "to": demo["bob"].id, "data": {"blob": blob}})
            sent += 20
            await alice.send({"type": "ping"})
            await alice.recv_type("pong")
        assert metric(worker, slow) == 1

        # Its socket is closed by the server, not left open.
        assert await asyncio.to_thread(read_until_closed, silent, 64 * 2**20)
        silent.close()
        await wait_for(lambda: metric(worker, "switchboard_connections") == 2, 10, "the silent socket is gone")

        # Everyone else on the worker is served as before.
        await alice.send(
            {"type": "send", "client_id": str(uuid.uuid4()), "to": demo["dev_lead"].id, "body": {"text": "still here"}}
        )
        assert (await alice.recv_type("ack"))["id"]
        assert (await lead.recv_type("message"))["body"]["text"] == "still here"
        await alice.ws.close()
        await lead.ws.close()
    finally:
        worker.stop()
