"""Searching in the web chat: Ctrl+K, a Chinese word found inside running text, results
grouped by conversation, and a result that opens its conversation at the message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import messages_with, open_chat, say, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def department_row(page):
    return page.locator('[data-testid="conversation"][data-kind="department"]')


def test_a_search_finds_a_chinese_word_and_opens_the_message(demo, web_worker, browser):
    alice = open_chat(browser, web_worker, demo["alice"])
    department_row(alice).click()
    say(alice, "我们下周三开会，讨论 **Q3 预算**")
    for index in range(40):  # the message ends far above the newest
        say(alice, f"update {index}")
    expect(messages_with(alice, "update 39")).to_have_attribute("data-status", re.compile("delivered|read"))

    bob = open_chat(browser, web_worker, demo["bob"])
    bob.keyboard.press("Control+k")
    box = bob.get_by_test_id("sidebar-search")
    expect(box).to_be_focused()
    box.press_sequentially("开会")
    results = bob.get_by_test_id("search-results")
    result = results.get_by_test_id("search-result")
    expect(result).to_have_count(1)
    expect(results).to_contain_text("Development")
    expect(result.locator("mark")).to_have_text("开会")
    # Markdown is not shown as such: the text is what readers see.
    expect(result).to_contain_text("讨论 Q3 预算")
    assert serious_accessibility_violations(bob) == []

    result.click()
    expect(bob.get_by_test_id("conversation-title")).to_contain_text("Development")
    found = messages_with(bob, "我们下周三开会")
    expect(found).to_be_in_viewport()
    expect(found).to_have_attribute("class", re.compile(r"\bmsg-flash\b"))

    # Mixed words find it too; someone outside Development finds nothing.
    box.fill("")
    box.press_sequentially("Q3 预算")
    expect(result).to_have_count(1)
    carol = open_chat(browser, web_worker, demo["carol"])
    carol.get_by_test_id("sidebar-search").press_sequentially("开会")
    expect(carol.get_by_test_id("search-results")).to_contain_text("No messages found")
