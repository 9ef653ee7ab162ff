"""A morning in the chat: check in from the banner, see Attendance confirm it, then confirm
an announcement, without leaving the page."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from apps_announcements import services as announcements
from apps_announcements.models import Recipient
from apps_attendance.models import Holiday, Punch
from imsite.testing.browser import login_context
from messaging.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    return check()


def in_own_thread(function):
    """Run ``function`` in a thread of its own: this one runs Playwright's event loop, where
    the channel layer's publishing (async_to_sync) may not run."""

    def run():
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def test_check_in_from_the_chat_then_confirm_an_announcement(demo, web_worker, browser):
    alice = demo["alice"]
    # Whatever day the test runs on, today is a workday: the banner offers Check in.
    Holiday.objects.update_or_create(date=timezone.localdate(), defaults={"name": "Test day", "is_workday": True})
    page = login_context(
        browser, base_url=web_worker.url, user=alice, viewport={"width": 390, "height": 844}
    ).new_page()
    page.goto("/chat/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    banner = page.get_by_test_id("attendance-banner")
    expect(banner).to_have_attribute("data-state", "none")
    expect(banner).to_contain_text("Not checked in yet")
    chat_socket_opened = []
    page.on("websocket", lambda ws: chat_socket_opened.append(ws.url))

    banner.get_by_test_id("check-in").click()
    # The banner changes in place: checked in, and now the button checks out.
    expect(banner).to_have_attribute("data-state", "in")
    punch = wait_for(lambda: Punch.objects.filter(user=alice).first())
    assert punch and (punch.kind, punch.source) == ("check_in", "api")
    checked_in = f"Checked in at {timezone.localtime(punch.at):%H:%M}"
    expect(banner).to_contain_text(checked_in)
    expect(banner.get_by_test_id("check-out")).to_be_visible()
    expect(banner.get_by_test_id("check-in")).to_have_count(0)
    assert page.url.endswith("/chat/") and not chat_socket_opened  # no reload, same socket

    # Attendance's confirmation arrives in its conversation with alice.
    conversation_id = wait_for(
        lambda: Message.objects.filter(app="attendance", conversation__memberships__user=alice)
        .values_list("conversation_id", flat=True)
        .first()
    )
    conversation = page.locator(f'[data-testid="conversation"][data-id="{conversation_id}"]')
    expect(conversation).to_contain_text("Attendance")
    conversation.click()
    card = page.get_by_test_id("attendance-card")
    expect(card).to_have_attribute("data-kind", "check_in")
    expect(card).to_contain_text(checked_in)
    expect(card.get_by_test_id("attendance-open")).to_have_attribute("href", "/attendance/")
    box = card.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390

    # Then HR announces something everyone must confirm; alice confirms it in the chat.
    announcement, _created = in_own_thread(
        lambda: announcements.announcement_publish(
            author=demo["hr_lead"], title="New badge readers", body="Badge in at the **main door** from Monday.",
            audience={"everyone": True}, requires_confirmation=True, client_id=str(uuid.uuid4()),
        )
    )
    announcement_conversation = wait_for(
        lambda: Message.objects.filter(app="announcement", conversation__memberships__user=alice)
        .values_list("conversation_id", flat=True)
        .first()
    )
    page.get_by_test_id("back").click()
    page.locator(f'[data-testid="conversation"][data-id="{announcement_conversation}"]').click()
    announcement_card = page.locator(f'[data-testid="announcement-card"][data-announcement="{announcement.pk}"]')
    expect(announcement_card).to_contain_text("New badge readers")
    announcement_card.get_by_test_id("announcement-confirm").click()
    expect(announcement_card).to_have_attribute("data-confirmed", "true")
    assert wait_for(
        lambda: Recipient.objects.filter(announcement=announcement, user=alice, confirmed_at__isnull=False).exists()
    )
    # The banner still knows alice is in.
    expect(banner).to_have_attribute("data-state", "in")
