from __future__ import annotations

import uuid

import pytest

from messaging.models import Conversation


@pytest.fixture(autouse=True)
def _index_at_once():
    """What is stored is indexed as it commits, in the test's own thread."""
    from search.indexer import indexer

    indexer.mode = "now"
    yield


def send(client, text=None, *, body=None, **target):
    response = client.post(
        "/api/v1/messages/",
        {"client_id": str(uuid.uuid4()), "body": body if body is not None else {"text": text}, **target},
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def search(client, q=None, expect=200, **params):
    if q is not None:
        params["q"] = q
    response = client.get("/api/v1/search/messages/", params)
    assert response.status_code == expect, response.content
    return response.json()


def found(client, q=None, **params) -> list[int]:
    return [result["id"] for result in search(client, q, **params)["results"]]


def dev() -> int:
    return Conversation.objects.get(department__code="dev").pk
