"""@mentions in a real browser: `@` offers the conversation's members, the one picked is
mentioned, and the person mentioned sees it in the inbox and in the message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import open_chat, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def department_row(page):
    return page.locator('[data-testid="conversation"][data-kind="department"]')


def test_bob_mentions_alice_who_sees_the_badge_and_the_highlight(demo, web_worker, browser):
    alice = open_chat(browser, web_worker, demo["alice"])
    bob = open_chat(browser, web_worker, demo["bob"])
    department_row(bob).click()
    composer = bob.get_by_test_id("composer")
    composer.press_sequentially("@al")
    options = bob.get_by_test_id("mention-option")
    expect(bob.get_by_test_id("mention-list")).to_be_visible()
    expect(options.first).to_have_attribute("data-username", "alice")
    expect(options.first).to_have_attribute("aria-selected", "true")
    assert composer.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    assert serious_accessibility_violations(bob) == []
    # Escape closes the list; typing on opens it again.
    composer.press("Escape")
    expect(bob.get_by_test_id("mention-list")).to_be_hidden()
    composer.press_sequentially("i")
    expect(options.first).to_have_attribute("data-username", "alice")
    composer.press("Enter")  # picks, does not send
    expect(composer).to_have_value("@alice ")
    expect(bob.get_by_test_id("mention-list")).to_be_hidden()
    composer.press_sequentially("stand-up in five?")
    composer.press("Enter")
    expect(bob.get_by_test_id("message").last).to_have_attribute("data-status", "delivered")

    row = department_row(alice)
    expect(row.get_by_test_id("mention-badge")).to_be_visible()
    expect(row.get_by_test_id("unread")).to_have_text("1")
    row.click()
    message = alice.get_by_test_id("message").last
    expect(message).to_contain_text("stand-up in five?")
    expect(message).to_have_attribute("class", re.compile(r"\bmsg-mentions-me\b"))
    expect(message.locator(".mention.mention-me")).to_have_text("@alice")
    expect(row.get_by_test_id("mention-badge")).to_be_hidden()

    # Bob's own copy names alice, without marking it as his.
    expect(bob.get_by_test_id("message").last.locator(".mention")).to_have_text("@alice")
    expect(bob.get_by_test_id("message").last.locator(".mention-me")).to_have_count(0)
