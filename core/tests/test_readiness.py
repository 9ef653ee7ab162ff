"""/readyz: ready when the worker's database and every Redis host answer, 503 naming what
did not otherwise, and never longer than its timeout whatever hangs; on a real worker too."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

from core import readiness
from imsite.testing.servers import ServerProcess, free_port

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextmanager
def silent_port():
    """A port that accepts connections and never says a word: a service that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for sock in accepted:
            sock.close()
        listener.close()


@pytest.mark.django_db
def test_ready_on_the_normal_setup(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    expected = {"database": "ok", **{f"redis-{n}": "ok" for n in range(1, len(settings.REDIS_URLS) + 1)}}
    assert response.json() == {"status": "ok", "checks": expected}
    assert response["Cache-Control"] == "no-store"
    # No session, no sign-in: probes carry no cookies.
    assert not response.cookies


@pytest.mark.django_db
def test_a_redis_host_away_or_hanging_is_named_within_the_timeout(client, settings):
    with silent_port() as silent:
        settings.REDIS_URLS = [*settings.REDIS_URLS, CLOSED, f"redis://:s3cret@127.0.0.1:{silent}/0"]
        started = time.monotonic()
        response = client.get("/readyz")
        took = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    hosts = len(settings.REDIS_URLS)
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"][f"redis-{hosts - 1}"] == body["checks"][f"redis-{hosts}"] == "unreachable"
    assert all(body["checks"][f"redis-{n}"] == "ok" for n in range(1, hosts - 1))
    # The checks run side by side, each cut off at the timeout.
    assert took < readiness.READY_TIMEOUT_SECONDS + 1.5, took
    # Nothing about where the services are or how to get in.
    text = response.content.decode()
    assert "127.0.0.1" not in text and "s3cret" not in text and "redis://" not in text


@pytest.mark.django_db
def test_healthz_stays_a_liveness_check(client, settings):
    settings.REDIS_URLS = [CLOSED]
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503


def get_json(url: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return status, json.loads(body), time.monotonic() - started


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_real_workers_report_what_they_cannot_reach(services_env, tmp_path):
    healthy = ServerProcess("ready", services_env, tmp_path)
    with silent_port() as silent:
        # A PostgreSQL that accepts and never answers, and a second Redis host nobody runs.
        away = {
            **services_env,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{silent}/switchboard",
            "REDIS_URL": f"{services_env['REDIS_URL']},{CLOSED}",
        }
        stranded = ServerProcess("stranded", away, tmp_path)
        # And one whose PostgreSQL is not there at all.
        nowhere = {**services_env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/switchboard"}
        gone = ServerProcess("gone", nowhere, tmp_path)
        try:
            for worker in (healthy, stranded, gone):
                worker.wait_ready()
            status, body, _took = get_json(f"{healthy.url}/readyz")
            assert (status, body) == (200, {"status": "ok", "checks": {"database": "ok", "redis-1": "ok"}})

            status, body, took = get_json(f"{stranded.url}/readyz")
            assert status == 503, body
            assert body == {
                "status": "unavailable",
                "checks": {"database": "unreachable", "redis-1": "ok", "redis-2": "unreachable"},
            }
            assert took < readiness.READY_TIMEOUT_SECONDS + 1.5, took
            status, body, _took = get_json(f"{gone.url}/readyz")
            assert status == 503 and body["checks"] == {"database": "unreachable", "redis-1": "ok"}, body
            # Alive all the same: the liveness check does not depend on them.
            for worker in (stranded, gone):
                with urllib.request.urlopen(f"{worker.url}/healthz", timeout=5) as response:
                    assert response.status == 200
        finally:
            for worker in (healthy, stranded, gone):
                worker.stop()
