"""The announcement card in the chat: seeing it marks it read, Confirm confirms it."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from apps_announcements import services
from apps_announcements.models import Recipient
from imsite.testing.browser import login_context
from messaging.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def announcement(demo):
    """Published and delivered before the browser starts (Celery runs eagerly in tests)."""
    announcement, _ = services.announcement_publish(
        author=demo["erin"], title="Fire drill on Thursday", body="Meet in the **car park** at 10:00.",
        audience={"departments": ["dev"]}, requires_confirmation=True, client_id=str(uuid.uuid4()),
    )
    return announcement


def receipt(announcement, user) -> Recipient:
    return Recipient.objects.get(announcement=announcement, user=user)


def wait_for(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_the_card_is_read_when_seen_and_confirmed_with_its_button(demo, announcement, web_worker, browser):
    conversation_id = Message.objects.get(app="announcement", conversation__memberships__user=demo["alice"]).conversation_id
    page = login_context(
        browser, base_url=web_worker.url, user=demo["alice"], viewport={"width": 390, "height": 844}
    ).new_page()
    page.goto("/chat/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    assert receipt(announcement, demo["alice"]).read_at is None

    page.locator(f'[data-testid="conversation"][data-id="{conversation_id}"]').click()
    card = page.locator(f'[data-testid="announcement-card"][data-announcement="{announcement.pk}"]')
    expect(card).to_contain_text("Fire drill on Thursday")
    expect(card.locator("strong", has_text="car park")).to_be_visible()  # the server's HTML, rendered
    expect(card).to_have_attribute("data-confirmed", "false")
    expect(card).to_have_attribute("data-read", "true")
    assert wait_for(lambda: receipt(announcement, demo["alice"]).read_at is not None)
    # The card fits a phone's width.
    box = card.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390

    card.get_by_test_id("announcement-confirm").click()
    expect(card).to_have_attribute("data-confirmed", "true")
    expect(card.get_by_test_id("announcement-confirmed")).to_be_visible()
    assert receipt(announcement, demo["alice"]).confirmed_at is not None
    expect(card.get_by_test_id("announcement-open")).to_have_attribute("href", f"/announcements/{announcement.pk}/")
