"""The inbox in a real browser: one list of every conversation, live order and unread
counts, pin and mute, opening at the first unread message, and "Message" on the People page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import login_context, open_chat, open_direct, say

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def rows(page):
    return page.locator('[data-testid="conversation"]')


def row(page, username):
    return page.locator(f'[data-testid="conversation"][data-kind="direct"][data-username="{username}"]')


def choose(page, username, item):
    """An item of a conversation's options menu, as a person picks it."""
    entry = row(page, username).locator("xpath=..")
    entry.hover()
    entry.get_by_test_id("conversation-menu").click()
    entry.get_by_test_id(item).click()


def test_the_inbox_orders_live_counts_unread_and_keeps_pins_and_mutes(demo, web_worker, browser):
    bob = open_chat(browser, web_worker, demo["bob"])
    alice = open_chat(browser, web_worker, demo["alice"])
    lead = open_chat(browser, web_worker, demo["dev_lead"])
    open_direct(alice, "bob")
    say(alice, "first from **alice**")
    open_direct(lead, "bob")
    say(lead, "then from the lead")

    # Bob's inbox: newest activity on top, each with its unread count and a plain preview.
    expect(rows(bob).first).to_have_attribute("data-username", "dev_lead")
    expect(row(bob, "alice").get_by_test_id("unread")).to_have_text("1")
    expect(row(bob, "alice").get_by_test_id("preview")).to_have_text("first from alice")
    say(alice, "alice again")
    expect(rows(bob).first).to_have_attribute("data-username", "alice")
    expect(row(bob, "alice").get_by_test_id("unread")).to_have_text("2")

    # Pinning the lead's chat puts it first, on a reload too.
    choose(bob, "dev_lead", "pin-toggle")
    expect(rows(bob).first).to_have_attribute("data-username", "dev_lead")
    expect(rows(bob).first).to_have_attribute("data-pinned", "true")
    bob.reload()
    expect(rows(bob).first).to_have_attribute("data-username", "dev_lead")

    # Muting alice's chat keeps its count, quietly, and leaves the tab title alone.
    choose(bob, "alice", "mute-toggle")
    expect(row(bob, "alice")).to_have_attribute("data-muted", "true")
    expect(row(bob, "alice").get_by_test_id("unread")).to_have_text("2")
    expect(bob).to_have_title(re.compile(r"^\(1\) "))  # only the lead's message counts

    # Opening it starts at the first unread message, below a line that says so.
    row(bob, "alice").click()
    expect(bob.get_by_test_id("unread-line")).to_be_visible()
    expect(bob.get_by_test_id("unread-line").locator("xpath=following-sibling::li[contains(@class,'msg')][1]")).to_contain_text(
        "first from alice"
    )
    expect(row(bob, "alice").get_by_test_id("unread")).to_be_hidden()


def test_message_on_the_people_page_opens_the_direct_chat(demo, web_worker, browser):
    context = login_context(browser, base_url=web_worker.url, user=demo["alice"])
    page = context.new_page()
    page.goto("/contacts/")
    page.locator('[data-testid="contact"][data-username="bob"] [data-testid="message-person"]').click()
    expect(page.get_by_test_id("conversation-title")).to_have_text("Bob Martin")
    expect(page).to_have_url(re.compile(r"/chat/#conversation-\d+$"))
    say(page, "found you on the People page")
    expect(row(page, "bob")).to_be_visible()


def test_a_new_conversation_counts_every_message_that_arrives_while_it_is_fetched(demo, web_worker, browser):
    """The first messages of a conversation the page did not know: it fetches the
    conversation once, and what arrives meanwhile still counts."""
    dave = open_chat(browser, web_worker, demo["dave"])
    # Dave's page reads the conversation's answer a second after the server gave it.
    dave.evaluate(
        """() => {
          const fetchNow = window.fetch;
          window.fetch = async (...args) => {
            const response = await fetchNow(...args);
            if (/\\/conversations\\/\\d+\\/$/.test(String(args[0]))) await new Promise((r) => setTimeout(r, 1000));
            return response;
          };
        }"""
    )
    lead = open_chat(browser, web_worker, demo["mkt_lead"])
    open_direct(lead, "dave")
    say(lead, "quick 0")
    expect(lead.locator('[data-testid="message"]', has_text="quick 0")).to_have_attribute("data-seq", "1")
    lead.wait_for_timeout(300)  # the server has answered dave's page by now
    for n in (1, 2):
        say(lead, f"quick {n}")
    expect(row(dave, "mkt_lead").get_by_test_id("unread")).to_have_text("3")
    expect(row(dave, "mkt_lead").get_by_test_id("preview")).to_have_text("quick 2")
