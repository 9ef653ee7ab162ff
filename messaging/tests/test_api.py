"""The messaging REST API: same rules, codes and idempotency as the socket."""

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from contacts.models import Department, Membership
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


def send(client, **payload):
    payload.setdefault("client_id", str(uuid.uuid4()))
    payload.setdefault("body", {"text": "hello"})
    return client.post("/api/v1/messages/", payload, format="json")


def test_anonymous_gets_401(demo):
    from rest_framework.test import APIClient

    for path in ["/api/v1/conversations/", "/api/v1/messages/"]:
        response = APIClient().get(path)
        assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_send_is_idempotent_and_listed(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    first = send(alice, to=demo["bob"].id, client_id="c-1", body={"text": "Hi"})
    assert first.status_code == 201
    ack = first.json()
    assert set(ack) == {"client_id", "id", "conversation", "seq", "created_at"} and ack["seq"] == 1
    again = send(alice, to=demo["bob"].id, client_id="c-1", body={"text": "Hi"})
    assert again.status_code == 200 and again.json() == ack
    assert Message.objects.count() == 1

    conversations = bob.get("/api/v1/conversations/").json()
    direct = next(c for c in conversations if c["kind"] == "direct")
    assert direct["id"] == ack["conversation"] and direct["title"] == "Alice Wang"
    assert direct["unread"] == 1 and direct["last_message"]["body"]["text"] == "Hi"
    assert {m["username"] for m in direct["members"]} == {"alice", "bob"}
    assert alice.get("/api/v1/conversations/").json()[0]["unread"] == 0


def test_department_conversations_follow_the_department(demo, api_for, django_capture_on_commit_callbacks):
    kinds = {(c["kind"], c["title"]) for c in api_for(demo["alice"]).get("/api/v1/conversations/").json()}
    assert ("department", "Development") in kinds
    dev = Department.objects.get(code="dev")
    conversation = Conversation.objects.get(department=dev)
    assert set(conversation.memberships.values_list("user__username", flat=True)) == {"dev_lead", "alice", "bob"}
    # Moving erin into Development through the admin keeps the conversation in step.
    from django.test import Client

    admin = Client()
    admin.force_login(demo["admin"])
    membership = Membership.objects.get(user=demo["erin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/admin/contacts/membership/{membership.pk}/change/",
            {"user": demo["erin"].pk, "department": dev.pk, "title": "Engineer", "is_primary": "on"},
        )
    assert response.status_code == 302
    assert "erin" in set(conversation.memberships.values_list("user__username", flat=True))
    hr = Conversation.objects.get(department__code="hr")
    assert "erin" not in set(hr.memberships.values_list("user__username", flat=True))


def test_history_pages(demo, api_for):
    alice = api_for(demo["alice"])
    conversation = send(alice, to=demo["bob"].id).json()["conversation"]
    for n in range(2, 8):
        send(alice, conversation=conversation, body={"text": f"m{n}"})
    url = f"/api/v1/conversations/{conversation}/messages/"
    newest = alice.get(url, {"limit": 3}).json()
    assert [m["seq"] for m in newest["results"]] == [5, 6, 7] and newest["has_more"]
    older = alice.get(url, {"before": 5, "limit": 3}).json()
    assert [m["seq"] for m in older["results"]] == [2, 3, 4] and older["has_more"]
    oldest = alice.get(url, {"before": 2, "limit": 3}).json()
    assert [m["seq"] for m in oldest["results"]] == [1] and not oldest["has_more"]
    after = alice.get(url, {"after": 5}).json()
    assert [m["seq"] for m in after["results"]] == [6, 7] and not after["has_more"]
    assert alice.get(url, {"limit": 500}).json()["code"] == "invalid"
    assert api_for(demo["carol"]).get(url).status_code == 404


def test_refusals_store_nothing(demo, api_for):
    alice = api_for(demo["alice"])
    cases = [
        (dict(to=demo["carol"].id), 403, "not_permitted"),
        (dict(conversation=999999), 404, "not_found"),
        (dict(to=demo["bob"].id, app="teleport"), 400, "unknown_app"),
        (dict(to=demo["bob"].id, body={"text": "x" * 70000}), 413, "too_large"),
        (dict(to=demo["bob"].id, conversation=1), 400, "invalid"),
        (dict(to=demo["bob"].id, body="just text"), 400, "invalid"),
    ]
    for payload, status, code in cases:
        response = send(alice, **payload)
        assert (response.status_code, response.json()["code"]) == (status, code), payload
    assert Message.objects.count() == 0


def test_rest_rate_limit(demo, api_for, settings):
    settings.MESSAGE_RATE_BURST = 3
    settings.MESSAGE_RATE_PER_SECOND = 0.01
    alice = api_for(demo["alice"])
    statuses = [send(alice, to=demo["bob"].id).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    limited = send(alice, to=demo["bob"].id)
    assert limited.json()["code"] == "rate_limited" and int(limited["Retry-After"]) >= 1
    assert Message.objects.count() == 3


def test_groups_only_with_contacts(demo, api_for):
    alice = api_for(demo["alice"])
    created = alice.post("/api/v1/conversations/", {"title": "Lunch", "members": [demo["bob"].id, demo["dev_lead"].id]}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "group" and body["title"] == "Lunch"
    assert {m["username"] for m in body["members"]} == {"alice", "bob", "dev_lead"}
    refused = alice.post("/api/v1/conversations/", {"title": "x", "members": [demo["carol"].id]}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    assert alice.post("/api/v1/conversations/", {"title": "", "members": [demo["bob"].id]}, format="json").status_code == 400
    assert Conversation.objects.filter(kind="group").count() == 1


def test_direct_open_and_reply_rule(demo, api_for):
    # Dave does not see Carol but may reply to her: he can open the conversation.
    opened = api_for(demo["dave"]).post("/api/v1/conversations/direct/", {"user": demo["carol"].id}, format="json")
    assert opened.status_code == 200 and opened.json()["kind"] == "direct"
    again = api_for(demo["carol"]).post("/api/v1/conversations/direct/", {"user": demo["dave"].id}, format="json")
    assert again.json()["id"] == opened.json()["id"]
    refused = api_for(demo["alice"]).post("/api/v1/conversations/direct/", {"user": demo["carol"].id}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"


def test_read_position(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    conversation = send(alice, to=demo["bob"].id).json()["conversation"]
    send(alice, conversation=conversation)
    response = bob.post(f"/api/v1/conversations/{conversation}/read/", {"seq": 1}, format="json")
    assert response.json() == {"conversation": conversation, "last_read_seq": 1}
    assert bob.get(f"/api/v1/conversations/{conversation}/").json()["unread"] == 1
    # Never backwards, never past the end.
    assert bob.post(f"/api/v1/conversations/{conversation}/read/", {"seq": 0}, format="json").json()["last_read_seq"] == 1
    assert bob.post(f"/api/v1/conversations/{conversation}/read/", {"seq": 99}, format="json").json()["last_read_seq"] == 2
    assert api_for(demo["carol"]).post(f"/api/v1/conversations/{conversation}/read/", {"seq": 1}, format="json").status_code == 404


def test_edit_and_recall_by_the_sender_within_the_window(demo, api_for, settings):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    ack = send(alice, to=demo["bob"].id, body={"text": "helo"}).json()
    edited = alice.patch(f"/api/v1/messages/{ack['id']}/", {"body": {"text": "**hello**"}}, format="json")
    assert edited.status_code == 200
    assert edited.json()["body"] == {"text": "**hello**", "html": "<p><strong>hello</strong></p>"}
    assert edited.json()["edited_at"]
    assert bob.patch(f"/api/v1/messages/{ack['id']}/", {"body": {"text": "x"}}, format="json").status_code == 403
    recalled = alice.post(f"/api/v1/messages/{ack['id']}/recall/")
    assert recalled.json()["recalled"] is True and recalled.json()["body"] == {}
    assert alice.post(f"/api/v1/messages/{ack['id']}/recall/").status_code == 409
    late = send(alice, to=demo["bob"].id).json()
    Message.objects.filter(pk=late["id"]).update(created_at=timezone.now() - timedelta(hours=1))
    response = alice.post(f"/api/v1/messages/{late['id']}/recall/")
    assert response.status_code == 403 and response.json()["code"] == "not_permitted"


def test_chat_html_is_sanitised(demo, api_for):
    alice = api_for(demo["alice"])
    ack = send(alice, to=demo["bob"].id, body={
        "text": "<script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.com)",
        "html": "<img src=x onerror=alert(1)>",
    }).json()
    body = Message.objects.get(pk=ack["id"]).body
    assert "<script" not in body["html"] and 'href="javascript' not in body["html"]
    assert "<img" not in body["html"] and "onerror" not in body["html"]
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in body["html"]


def test_metrics_for_loopback_and_staff_only(demo, client):
    send_response = None
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    for name in ["switchboard_connections", "switchboard_messages_stored_total", "switchboard_relay_bytes_total",
                 "switchboard_errors_total", "switchboard_delivery_latency_seconds"]:
        assert name in text
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    client.force_login(demo["admin"])
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    del send_response


def test_metrics_behind_a_proxy_refuse_what_the_proxy_relayed(demo, client, settings):
    settings.BEHIND_PROXY = True
    # A scraper on the host asks the worker directly.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    # Relayed by nginx: from outside, whatever the address looks like.
    relayed = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert relayed.status_code == 403
    client.force_login(demo["admin"])
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200


def test_text_that_cannot_be_stored_is_a_400(demo, api_for):
    """JSON allows a lone UTF-16 surrogate (``\\ud800``); every JSON request refuses it."""
    alice = api_for(demo["alice"])
    raw = '{"client_id": "c-1", "to": %d, "body": {"text": "a\\ud800b"}}' % demo["bob"].id
    response = alice.post("/api/v1/messages/", raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    raw = '{"title": "\\udfff", "members": [%d]}' % demo["bob"].id
    response = alice.post("/api/v1/conversations/", raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not Message.objects.exists()
    assert send(alice, to=demo["bob"].id, body={"text": "\U0001f600 fine"}).status_code == 201


# --- the direct path's offload -------------------------------------------------------


def metrics_value(client, kind: str) -> float:
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    match = re.search(rf'^switchboard_p2p_bytes_total\{{kind="{kind}"\}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def test_p2p_bytes_reports_reach_the_metrics(demo, api_for, client):
    alice = api_for(demo["alice"])
    before = {kind: metrics_value(client, kind) for kind in ("file", "message")}
    assert alice.post("/api/v1/transport/p2p-bytes/", {"bytes": 1_000_000, "kind": "file"}, format="json").status_code == 204
    assert alice.post("/api/v1/transport/p2p-bytes/", {"bytes": 250, "kind": "message"}, format="json").status_code == 204
    assert metrics_value(client, "file") - before["file"] == 1_000_000
    assert metrics_value(client, "message") - before["message"] == 250


@pytest.mark.parametrize(
    "data",
    [{"bytes": 0, "kind": "file"}, {"bytes": -5, "kind": "file"}, {"bytes": 4 * 2**30 + 1, "kind": "file"},
     {"bytes": "many", "kind": "file"}, {"bytes": 10, "kind": "video"}, {"bytes": 10}, {"kind": "file"}],
)
def test_p2p_bytes_refusals_count_nothing(demo, api_for, client, data):
    before = metrics_value(client, "file")
    response = api_for(demo["alice"]).post("/api/v1/transport/p2p-bytes/", data, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert metrics_value(client, "file") == before


def test_p2p_bytes_needs_a_person_and_a_limit(demo, api_for):
    assert Client().post("/api/v1/transport/p2p-bytes/", {"bytes": 1, "kind": "file"}).status_code == 401
    alice = api_for(demo["alice"])
    statuses = []
    # The burst is 60 reports; refilling at one a second cannot keep up with this loop.
    for _ in range(200):
        response = alice.post("/api/v1/transport/p2p-bytes/", {"bytes": 1, "kind": "message"}, format="json")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:60]) == {204}
    assert response.json()["code"] == "rate_limited" and "Retry-After" in response
    # Someone else has a bucket of their own.
    assert api_for(demo["bob"]).post("/api/v1/transport/p2p-bytes/", {"bytes": 1, "kind": "message"}, format="json").status_code == 204


def test_the_chat_page_carries_the_transport_settings(demo, client, settings):
    settings.ICE_SERVERS = [{"urls": "stun:stun.example.com:3478"}]
    settings.FILE_ARCHIVE_P2P = True
    client.force_login(demo["alice"])
    config = client.get("/chat/").context["config_json"]
    assert config["p2p"] == {"enabled": True, "ice_servers": [{"urls": "stun:stun.example.com:3478"}], "connect_timeout_ms": 4000}
    assert config["apps"]["file"] == {"max_bytes": 100 * 2**20, "upload_url": "/api/v1/files/", "archive_p2p": True}
    assert config["p2p_report_url"] == "/api/v1/transport/p2p-bytes/"
