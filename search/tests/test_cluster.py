"""Two real Daphne workers and a Celery worker on PostgreSQL and Redis, as `make cluster`
runs them: what is stored through one web worker is indexed by the Celery worker and
found through the other within a second, and an edit or a recall follows as fast."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from accounts.services import token_issue_for_user
from imsite.testing.servers import CeleryWorker, servers
from messaging.models import Conversation

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def call(server, token, method, path, payload=None):
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        return json.loads(body) if body else None


def found_within(server, token, q, expected, seconds=1.0):
    deadline = time.monotonic() + seconds
    while True:
        page = call(server, token, "GET", "/api/v1/search/messages/?" + urllib.parse.urlencode({"q": q}))
        ids = [result["id"] for result in page["results"]]
        if ids == expected:
            return
        assert time.monotonic() < deadline, f"{q!r}: {ids}, not {expected} within {seconds}s"
        time.sleep(0.05)


def test_what_one_worker_stores_the_other_finds(demo, services_env, tmp_path, settings):
    alice = token_issue_for_user(user=demo["alice"])["access_token"]
    bob = token_issue_for_user(user=demo["bob"])["access_token"]
    dev = Conversation.objects.get(department__code="dev").pk
    env = {**services_env, "CELERY_TASK_ALWAYS_EAGER": "false"}
    celery = CeleryWorker("celery", env, tmp_path)
    try:
        celery.wait_ready()
        with servers(["worker-a", "worker-b"], env, tmp_path) as (a, b):
            stored_and_found(a, b, alice, bob, dev)
    finally:
        celery.stop()
    # The web workers handed the indexing over; the Celery worker did it.
    assert "search.tasks.index_messages" in celery.log_path.read_text()


def stored_and_found(a, b, alice, bob, dev):
    ack = call(a, alice, "POST", "/api/v1/messages/",
               {"client_id": str(uuid.uuid4()), "conversation": dev, "body": {"text": "我们下周三开会"}})  # fmt: skip
    # The first search of a worker loads the segmenter's dictionary: not timed.
    call(b, bob, "GET", "/api/v1/search/messages/?q=warm")
    found_within(b, bob, "开会", [ack["id"]], seconds=5)
    edited = call(a, alice, "POST", "/api/v1/messages/",
                  {"client_id": str(uuid.uuid4()), "conversation": dev, "body": {"text": "draft budget"}})  # fmt: skip
    found_within(b, bob, "draft", [edited["id"]])
    call(a, alice, "PATCH", f"/api/v1/messages/{edited['id']}/", {"body": {"text": "final budget"}})
    found_within(b, bob, "draft", [])
    found_within(b, bob, "final", [edited["id"]])
    call(a, alice, "POST", f"/api/v1/messages/{ack['id']}/recall/")
    found_within(b, bob, "开会", [])
