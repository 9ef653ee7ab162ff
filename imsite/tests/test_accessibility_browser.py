"""axe-core finds no serious or critical accessibility problem on the pages people use all
day: the chat's inbox, an open conversation and its dialogs, at desktop and phone sizes,
the approvals list, the attendance month and the People page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import login_context, open_direct, say, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def audited(page, where: str) -> None:
    found = serious_accessibility_violations(page)
    assert not found, f"{where}: " + "; ".join(f"{v['id']} ({v['help']}) at {v['nodes'][:3]}" for v in found)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_the_chat_has_no_serious_accessibility_problem(demo, web_worker, browser, viewport):
    alice = login_context(browser, base_url=web_worker.url, user=demo["alice"], viewport=viewport).new_page()
    alice.goto("/chat/")
    expect(alice.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    open_direct(alice, "bob")
    say(alice, "Hello **Bob**, see https://example.com")
    expect(alice.locator('[data-testid="message"]')).to_have_count(1)
    audited(alice, "an open conversation")

    bob = login_context(browser, base_url=web_worker.url, user=demo["bob"], viewport=viewport).new_page()
    bob.goto("/chat/")
    expect(bob.locator('[data-testid="conversation"][data-kind="direct"]')).to_have_count(1)
    audited(bob, "the inbox, with an unread conversation")
    bob.get_by_test_id("new-chat").click()
    expect(bob.get_by_test_id("new-chat-dialog")).to_be_visible()
    audited(bob, "the New chat dialog")


@pytest.mark.parametrize("path", ["/approvals/", "/attendance/", "/contacts/", "/announcements/"])
def test_the_office_pages_have_no_serious_accessibility_problem(demo, web_worker, browser, path):
    page = login_context(browser, base_url=web_worker.url, user=demo["alice"]).new_page()
    page.goto(path)
    expect(page.locator("main")).to_be_visible()
    audited(page, path)
