"""gc.freeze() at start-up and periodically, around the real ASGI application."""

from __future__ import annotations

import asyncio
import gc
import urllib.request

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import REGISTRY

from core import gcfreeze
from imsite.asgi import django_asgi_app


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    # Hand this test process's heap back to the collector.
    gc.unfreeze()


def healthz_scope() -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 50000),
    }


async def healthz(app) -> int:
    communicator = ApplicationCommunicator(app, healthz_scope())
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    await communicator.receive_output(timeout=10)  # the body
    return start["status"]


def freezes() -> float:
    return REGISTRY.get_sample_value("switchboard_gc_freezes_total")


async def wait_for_freezes(count: float, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while freezes() < count:
            await asyncio.sleep(0.01)


@pytest.mark.django_db
async def test_freezes_when_built_and_then_periodically():
    gc.unfreeze()
    before = freezes()
    app = gcfreeze.GcFreezing(django_asgi_app, interval=0.02)
    assert gc.get_freeze_count() > 0
    assert freezes() == before + 1

    # Requests go through untouched; the first one starts the periodic freeze.
    assert await healthz(app) == 200
    await wait_for_freezes(before + 3)
    app.stop()


async def test_zero_turns_it_off():
    gc.unfreeze()
    before = freezes()
    app = gcfreeze.GcFreezing(django_asgi_app, interval=0)
    assert gc.get_freeze_count() == 0
    await app({"type": "lifespan"}, _lifespan_messages(), _discard)
    assert app.task is None
    assert freezes() == before


async def test_answers_the_lifespan_protocol_and_stops_at_shutdown():
    app = gcfreeze.GcFreezing(django_asgi_app, interval=3600)
    sent = []

    async def send(message):
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, _lifespan_messages(), send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    async with asyncio.timeout(10):
        while not app.task.done():
            await asyncio.sleep(0.01)
    assert app.task.cancelled()


def test_a_bad_interval_stops_start_up(monkeypatch):
    monkeypatch.setenv("GC_FREEZE_INTERVAL", "soon")
    with pytest.raises(ImproperlyConfigured, match="GC_FREEZE_INTERVAL"):
        gcfreeze.GcFreezing(django_asgi_app)
    monkeypatch.setenv("GC_FREEZE_INTERVAL", "-1")
    with pytest.raises(ImproperlyConfigured):
        gcfreeze.GcFreezing(django_asgi_app)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_has_frozen_its_start_up_heap(web_worker):
    with urllib.request.urlopen(f"{web_worker.url}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    values = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith(("switchboard_gc_freezes_total", "switchboard_gc_frozen_objects"))
    }
    assert values["switchboard_gc_freezes_total"] >= 1
    assert values["switchboard_gc_frozen_objects"] > 10_000


def test_each_collection_is_timed_by_generation():
    def sample(name):
        return REGISTRY.get_sample_value(f"switchboard_gc_pause_seconds_{name}", {"generation": "2"}) or 0.0

    before_count, before_sum = sample("count"), sample("sum")
    gc.collect()
    assert sample("count") == before_count + 1
    assert sample("sum") > before_sum


def _lifespan_messages():
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive():
        return next(messages)

    return receive


async def _discard(message) -> None:
    pass
