"""Announcements: who may announce, the audience, batched delivery, receipts, stats."""

from __future__ import annotations

import pytest

from apps_announcements.models import Announcement, Recipient
from messaging.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish(api_for, django_capture_on_commit_callbacks):
    def run(user, **payload):
        payload.setdefault("title", "Office closed on Friday")
        payload.setdefault("body", "The office is **closed** on Friday. <script>alert(1)</script>")
        payload.setdefault("client_id", f"a-{payload['title']}-{user.username}")
        with django_capture_on_commit_callbacks(execute=True):
            return api_for(user).post("/api/v1/announcements/", payload, format="json")

    return run


def test_hr_announces_to_everyone_in_batches(demo, publish, settings):
    settings.ANNOUNCEMENT_BATCH_SIZE = 4
    response = publish(demo["erin"], audience={"everyone": True}, pinned=True, requires_confirmation=True)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["audience_size"] == 12 and body["pinned"] and body["requires_confirmation"]
    assert "<script" not in body["body_html"] and "<strong>closed</strong>" in body["body_html"]
    announcement = Announcement.objects.get()
    assert Recipient.objects.filter(announcement=announcement, delivered_at__isnull=False).count() == 12
    assert announcement.delivered_at is not None
    messages = Message.objects.filter(app="announcement")
    assert messages.count() == 12 and {m.sender.username for m in messages} == {"announcements"}
    assert messages.first().body["title"] == "Office closed on Friday"
    # The same client_id never publishes twice.
    again = publish(demo["erin"], audience={"everyone": True})
    assert again.status_code == 200 and Announcement.objects.count() == 1 and messages.count() == 12


def test_who_may_announce(demo, publish):
    assert publish(demo["president"], title="All hands", audience={"everyone": True}).status_code == 201
    assert publish(demo["dev_lead"], title="Dev sync", audience={"departments": ["dev"]}).status_code == 201
    refused = [
        publish(demo["dev_lead"], title="To sales", audience={"departments": ["sales"]}),
        publish(demo["dev_lead"], title="To all", audience={"everyone": True}),
        publish(demo["alice"], title="From alice", audience={"departments": ["dev"]}),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [(403, "not_permitted")] * 3
    dev = Announcement.objects.get(title="Dev sync")
    assert set(dev.recipients.values_list("user__username", flat=True)) == {"dev_lead", "alice", "bob"}


def test_bad_input(demo, publish):
    cases = [({"audience": {"departments": ["nowhere"]}}, "audience"), ({"audience": "all"}, "audience"),
             ({"audience": {"everyone": True}, "title": " "}, "title")]
    for payload, field in cases:
        response = publish(demo["erin"], **payload)
        assert response.status_code == 400, payload
    assert not Announcement.objects.exists()


def test_read_confirm_and_stats(demo, publish, api_for):
    announcement_id = publish(demo["erin"], audience={"departments": ["hr", "dev"]}, requires_confirmation=True).json()["id"]
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    assert alice.post(f"/api/v1/announcements/{announcement_id}/read/").json()["read_at"]
    confirmed = bob.post(f"/api/v1/announcements/{announcement_id}/confirm/").json()
    assert confirmed["read_at"] and confirmed["confirmed_at"]
    assert api_for(demo["carol"]).post(f"/api/v1/announcements/{announcement_id}/read/").status_code == 404

    stats = api_for(demo["erin"]).get(f"/api/v1/announcements/{announcement_id}/stats/").json()
    assert (stats["audience"], stats["read"], stats["confirmed"]) == (5, 2, 1)
    assert {u["username"] for u in stats["unread_users"]} == {"dev_lead", "hr_lead", "erin"}
    assert {u["username"] for u in stats["unconfirmed_users"]} == {"alice", "dev_lead", "hr_lead", "erin"}
    assert alice.get(f"/api/v1/announcements/{announcement_id}/stats/").status_code == 403
    assert api_for(demo["admin"]).get(f"/api/v1/announcements/{announcement_id}/stats/").status_code == 200
    listed = alice.get("/api/v1/announcements/").json()
    assert [a["id"] for a in listed] == [announcement_id] and listed[0]["read_at"]


def test_clients_cannot_forge_announcements(demo, api_for):
    response = api_for(demo["erin"]).post(
        "/api/v1/messages/", {"client_id": "x", "to": demo["hr_lead"].id, "app": "announcement", "body": {"announcement": 1}},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "not_permitted"


def test_publishing_does_not_deliver_inside_the_request(demo, api_for, settings):
    """Delivery is a Celery task enqueued on commit; the request itself sends nothing."""
    settings.ANNOUNCEMENT_BATCH_SIZE = 2
    response = api_for(demo["erin"]).post(
        "/api/v1/announcements/",
        {"title": "t", "body": "b", "audience": {"everyone": True}, "client_id": "late"},
        format="json",
    )
    assert response.status_code == 201
    assert not Message.objects.filter(app="announcement").exists()  # on-commit work has not run here
