"""HR notifications: who gets them, idempotency, status, the rate limit, bad input."""

from __future__ import annotations

import base64

import pytest

from integrations.models import Notification
from messaging.models import ConversationMember, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr(register, client):
    created = register("Acme HR", "notify")
    basic = base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()
    response = client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    return {**created, "token": response.json()["access_token"]}


def notify(client, hr, **body):
    body.setdefault("recipients", ["alice"])
    body.setdefault("title", "Your payslip for November")
    body.setdefault("text", "It is ready to view.")
    body.setdefault("client_id", "payslip-2026-11")
    return client.post(
        "/api/v1/notifications/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {hr['token']}"
    )


def test_each_recipient_gets_a_notice_from_the_clients_own_account(client, demo, hr):
    response = notify(client, hr, recipients=["alice", "E0005", "nobody", "alice"], link="https://hr.example/payslips/11")
    assert response.status_code == 202
    data = response.json()
    statuses = {r["recipient"]: r for r in data["recipients"]}
    assert statuses["nobody"] == {"recipient": "nobody", "user": None, "status": "unknown", "delivered": False, "read": False}
    assert statuses["alice"]["status"] == "delivered" and statuses["alice"]["read"] is False
    by_number = next(u for u in demo.values() if u.employee_number == "E0005")
    assert statuses["E0005"]["user"] == by_number.username != "alice"
    notices = Message.objects.filter(app="notice")
    assert {m.sender.username for m in notices} == {"integration-acme-hr"}
    assert notices.count() == 2  # alice once, however often she is named
    body = notices.first().body
    assert body["title"] == "Your payslip for November" and body["from"] == "Acme HR"
    assert body["link"] == "https://hr.example/payslips/11"


def test_the_same_client_id_never_sends_twice(client, demo, hr):
    first = notify(client, hr)
    again = notify(client, hr, title="Something else")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.filter(app="notice").count() == 1 and Notification.objects.count() == 1


def test_status_shows_delivered_and_read(client, demo, hr):
    notification_id = notify(client, hr).json()["id"]
    url = f"/api/v1/notifications/{notification_id}/"
    status = client.get(url, HTTP_AUTHORIZATION=f"Bearer {hr['token']}").json()
    assert [(r["user"], r["delivered"], r["read"]) for r in status["recipients"]] == [("alice", True, False)]
    message = Message.objects.get(app="notice")
    ConversationMember.objects.filter(conversation=message.conversation, user=demo["alice"]).update(last_read_seq=message.seq)
    status = client.get(url, HTTP_AUTHORIZATION=f"Bearer {hr['token']}").json()
    assert status["recipients"][0]["read"] is True


def test_another_client_cannot_read_the_status(client, demo, hr, register):
    notification_id = notify(client, hr).json()["id"]
    other = register("Other HR", "notify")
    basic = base64.b64encode(f"{other['client_id']}:{other['client_secret']}".encode()).decode()
    token = client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}").json()["access_token"]
    response = client.get(f"/api/v1/notifications/{notification_id}/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"recipients": []}, "invalid"),
        ({"recipients": "alice"}, "invalid"),
        ({"recipients": [1, 2]}, "invalid"),
        ({"title": ""}, "invalid"),
        ({"text": "x" * 4001}, "too_large"),
        ({"link": "javascript:alert(1)"}, "invalid"),
        ({"client_id": ""}, "invalid"),
    ],
)
def test_bad_input_changes_nothing(client, demo, hr, body, code):
    response = notify(client, hr, **body)
    assert response.status_code in (400, 413) and response.json()["code"] == code
    assert not Message.objects.filter(app="notice").exists() and not Notification.objects.exists()


def test_over_the_rate_limit_429_with_retry_after(client, demo, hr, settings):
    settings.NOTIFY_RATE_PER_MINUTE = 2
    assert notify(client, hr, client_id="a").status_code == 202
    assert notify(client, hr, client_id="b").status_code == 202
    response = notify(client, hr, client_id="c")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Notification.objects.count() == 2
    # A repeat of a notification already sent is answered, not counted.
    assert notify(client, hr, client_id="a").status_code == 202


def test_scope_and_token_are_required(client, demo, register):
    reader = register("Directory reader", "directory:read")
    basic = base64.b64encode(f"{reader['client_id']}:{reader['client_secret']}".encode()).decode()
    token = client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}").json()["access_token"]
    response = client.post("/api/v1/notifications/", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert client.post("/api/v1/notifications/", {}, content_type="application/json").status_code == 401
