"""The web chat in a real browser (Playwright with Debian's Chromium) against real workers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import login_context, messages_with, open_chat, open_direct, say

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_users_chat_live_and_history_survives_a_reload(demo, web_worker, browser):
    alice = open_chat(browser, web_worker, demo["alice"])
    bob = open_chat(browser, web_worker, demo["bob"])
    open_direct(alice, "bob")
    open_direct(bob, "alice")

    say(alice, "Hello **Bob**")
    sent = messages_with(alice, "Hello Bob")
    expect(sent).to_have_attribute("data-status", re.compile("delivered|read"))
    received = messages_with(bob, "Hello Bob")
    expect(received).to_have_count(1)
    expect(received).to_have_attribute("data-transport", "relay")
    expect(received).to_have_attribute("data-seq", "1")
    expect(received.locator("strong")).to_have_text("Bob")
    # Bob has the conversation open, so Alice sees it read.
    expect(sent).to_have_attribute("data-status", "read")

    say(bob, "Hi Alice")
    expect(messages_with(alice, "Hi Alice")).to_have_count(1)

    # Typing shows on the other side (clients send it at most every few seconds).
    alice.wait_for_timeout(3200)
    alice.get_by_test_id("composer").press_sequentially("typing…")
    expect(bob.get_by_test_id("typing")).to_contain_text("Alice")

    bob.reload()
    expect(bob.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    open_direct(bob, "alice")
    expect(messages_with(bob, "Hello Bob")).to_have_count(1)
    expect(messages_with(bob, "Hi Alice")).to_have_count(1)


def test_a_page_that_loses_its_network_gets_what_it_missed_exactly_once(demo, web_worker, browser):
    alice = open_chat(browser, web_worker, demo["alice"])
    bob = open_chat(browser, web_worker, demo["bob"])
    open_direct(alice, "bob")
    open_direct(bob, "alice")
    say(alice, "before the outage")
    expect(messages_with(bob, "before the outage")).to_have_count(1)

    bob.context.set_offline(True)
    expect(bob.get_by_test_id("connection-state")).not_to_have_attribute("data-state", "online")
    for n in range(1, 4):
        say(alice, f"while away {n}")
        expect(messages_with(alice, f"while away {n}")).to_have_attribute("data-status", re.compile("delivered|read"))

    bob.context.set_offline(False)
    expect(bob.get_by_test_id("connection-state")).to_have_attribute("data-state", "online", timeout=20_000)
    for n in range(1, 4):
        expect(messages_with(bob, f"while away {n}")).to_have_count(1)
    seqs = [int(s) for s in bob.locator('[data-testid="message"]').evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 4


def test_the_chat_works_on_a_phone(demo, web_worker, browser):
    context = login_context(browser, base_url=web_worker.url, user=demo["carol"], viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/chat/")
    expect(page.get_by_test_id("conversations")).to_be_visible()
    open_direct(page, "dave")
    say(page, "On my phone")
    expect(messages_with(page, "On my phone")).to_have_attribute("data-status", re.compile("delivered|read"))
    # Nothing sticks out sideways, and the open conversation has the screen to itself.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_test_id("conversations")).to_be_hidden()
    page.get_by_test_id("back").click()
    expect(page.locator('[data-testid="conversation"][data-username="dave"]')).to_be_visible()


def test_the_chat_follows_the_presence_of_the_people_it_shows(demo, web_worker, browser):
    context = login_context(browser, base_url=web_worker.url, user=demo["alice"])
    # Note the address of every WebSocket the page opens.
    context.add_init_script(
        "window.WebSocket = class extends window.WebSocket {"
        " constructor(url, protocols) { super(url, protocols); (window.sockets ||= []).push(String(url)); } };"
    )
    alice = context.new_page()
    alice.goto("/chat/")
    expect(alice.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    sockets = alice.evaluate("window.sockets")
    assert sockets and all("presence=subscribe" in url for url in sockets), sockets
    # The inbox shows a dot for the other person of each direct chat.
    open_direct(alice, "bob")
    say(alice, "are you in?")
    bob_dot = alice.locator('[data-testid="conversation"][data-username="bob"] [data-testid="presence"]')
    expect(bob_dot).to_have_attribute("data-status", "offline")

    bob = open_chat(browser, web_worker, demo["bob"])
    expect(bob_dot).to_have_attribute("data-status", "online")
    bob.context.close()
    expect(bob_dot).to_have_attribute("data-status", "offline")


@pytest.fixture
def server_hashers(settings):
    """Passwords hashed here are checked by the worker (a password change asks for the old
    one): with the worker's hashers. Listed before ``demo``, so that its users get them."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def test_signing_out_or_a_new_password_ends_other_tabs_at_once(server_hashers, demo, web_worker, browser):
    """A tab whose session is signed out elsewhere, or made under a password changed since,
    shows that it is signed out at once; the tab of the session that changed the password
    connects again and goes on."""
    changing = open_chat(browser, web_worker, demo["alice"])
    other_session = open_chat(browser, web_worker, demo["alice"])
    leaving = open_chat(browser, web_worker, demo["alice"])

    # Signing out in another tab of the same session.
    elsewhere = leaving.context.new_page()
    elsewhere.goto("/contacts/")
    elsewhere.get_by_role("button", name="Sign out").click()
    state = leaving.get_by_test_id("connection-state")
    expect(state).to_have_attribute("data-state", "offline")
    expect(state.get_by_role("link")).to_be_visible()
    for page in (changing, other_session):
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")

    # A new password, set in another tab of the first session.
    form = changing.context.new_page()
    form.goto("/accounts/password_change/")
    form.locator("#id_old_password").fill("switchboard-demo")
    form.locator("#id_new_password1").fill("a-new-long-passphrase")
    form.locator("#id_new_password2").fill("a-new-long-passphrase")
    form.locator("#id_new_password2").press("Enter")
    expect(form).to_have_url(re.compile("/accounts/password_change/done/"))
    expect(other_session.get_by_test_id("connection-state")).to_have_attribute("data-state", "offline")
    # It reconnects after a backoff, which a busy machine may stretch.
    expect(changing.get_by_test_id("connection-state")).to_have_attribute("data-state", "online", timeout=20_000)
    open_direct(changing, "bob")
    say(changing, "still signed in")
    expect(messages_with(changing, "still signed in")).to_have_attribute("data-status", re.compile("delivered|read"))


def test_a_message_sent_while_the_history_loads_is_shown(demo, web_worker, browser):
    """A send that is acknowledged before the conversation's first page arrives still
    shows, once, in its place."""
    alice = open_chat(browser, web_worker, demo["alice"])
    open_direct(alice, "bob")
    say(alice, "earlier")
    expect(messages_with(alice, "earlier")).to_have_attribute("data-status", re.compile("delivered|read"))
    alice.goto("/chat/")  # the inbox, no conversation open
    expect(alice.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")

    # The server answers the history at once (without the message about to be sent); the
    # page reads the answer only after the message's ack.
    alice.evaluate(
        """() => {
          const fetchNow = window.fetch;
          window.fetch = async (...args) => {
            const response = await fetchNow(...args);
            if (/\\/messages\\/\\?/.test(String(args[0]))) {
              window.historyAnswered = true;
              await new Promise((r) => setTimeout(r, 1500));
            }
            return response;
          };
        }"""
    )
    alice.locator('[data-testid="conversation"][data-username="bob"]').click()
    alice.wait_for_function("window.historyAnswered === true")
    say(alice, "while loading")
    expect(messages_with(alice, "while loading")).to_have_count(1)
    expect(messages_with(alice, "while loading")).to_have_attribute("data-seq", "2")
    expect(messages_with(alice, "earlier")).to_have_count(1)
