"""Message actions in a real browser, as two people use them: a reaction seen live, a
reply whose quote jumps to what it answers, an edit and a recall seen live, a forward
marked as such; on a phone the menu opens with a long press."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import messages_with, open_chat, open_direct, say, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def open_menu(page, message):
    message.hover()
    message.get_by_test_id("message-menu-button").click()
    expect(page.get_by_test_id("message-menu")).to_be_visible()


def test_a_reaction_a_reply_and_its_jump(demo, web_worker, browser):
    alice = open_chat(browser, web_worker, demo["alice"])
    bob = open_chat(browser, web_worker, demo["bob"])
    open_direct(alice, "bob")
    say(alice, "Shall we ship **today**?")
    for index in range(30):  # enough to push the question out of view
        say(alice, f"detail {index}")
    expect(messages_with(alice, "detail 29")).to_have_attribute("data-status", re.compile("delivered|read"))
    open_direct(bob, "alice")
    question = messages_with(bob, "Shall we ship").first

    # Bob reacts; Alice sees it live, pressed for him, not for her.
    question.scroll_into_view_if_needed()
    open_menu(bob, question)
    assert serious_accessibility_violations(bob) == []
    bob.locator('[data-testid="react-choice"][data-emoji="👍"]').click()
    expect(question.get_by_test_id("reaction")).to_have_attribute("aria-pressed", "true")
    theirs = messages_with(alice, "Shall we ship").first.get_by_test_id("reaction")
    expect(theirs).to_have_attribute("data-emoji", "👍")
    expect(theirs).to_have_attribute("aria-pressed", "false")
    expect(theirs).to_contain_text("1")
    # Alice adds hers by clicking the chip: two, and pressed for her.
    theirs.click()
    expect(theirs).to_contain_text("2")
    expect(theirs).to_have_attribute("aria-pressed", "true")
    expect(question.get_by_test_id("reaction")).to_contain_text("2")
    # Hovering a reaction names who gave it.
    question.get_by_test_id("reaction").hover()
    expect(question.get_by_test_id("reaction")).to_have_attribute("title", "you, Alice Wang reacted with 👍")

    # Bob replies to the question.
    open_menu(bob, question)
    bob.get_by_test_id("action-reply").click()
    expect(bob.get_by_test_id("composer-context")).to_contain_text("Shall we ship today?")
    say(bob, "Yes, after lunch")
    expect(bob.get_by_test_id("composer-context")).to_be_hidden()
    # Alice, scrolled up to react, takes the "New messages" button down to the reply.
    alice.locator("#sb-jump").click()
    reply = messages_with(alice, "Yes, after lunch")
    expect(reply).to_be_in_viewport()
    quote = reply.get_by_test_id("reply-quote")
    expect(quote).to_contain_text("Shall we ship today?")
    expect(quote).to_contain_text("Alice")
    # The quote jumps to the question, scrolled out of view above.
    first = messages_with(alice, "Shall we ship").first
    expect(first).not_to_be_in_viewport()
    quote.click()
    expect(first).to_be_in_viewport()
    expect(first).to_have_attribute("class", re.compile(r"\bmsg-flash\b"))

    # After a reload the reply still carries its quote, and the reactions are there.
    alice.reload()
    open_direct(alice, "bob")
    expect(messages_with(alice, "Yes, after lunch").get_by_test_id("reply-quote")).to_contain_text("Shall we ship today?")
    expect(messages_with(alice, "Shall we ship").first.get_by_test_id("reaction")).to_have_attribute("aria-pressed", "true")


def test_an_edit_and_a_recall_are_seen_live_and_a_forward_is_marked(demo, web_worker, browser):
    alice = open_chat(browser, web_worker, demo["alice"])
    bob = open_chat(browser, web_worker, demo["bob"], viewport={"width": 390, "height": 800}, has_touch=True, is_mobile=True)
    open_direct(alice, "bob")
    say(alice, "Meeting at 3")
    open_direct(bob, "alice")
    expect(messages_with(bob, "Meeting at 3")).to_be_visible()

    mine = messages_with(alice, "Meeting at 3")
    open_menu(alice, mine)
    alice.get_by_test_id("action-edit").click()
    composer = alice.get_by_test_id("composer")
    expect(composer).to_have_value("Meeting at 3")
    expect(alice.get_by_test_id("composer-context")).to_be_visible()
    composer.fill("Meeting at 4")
    composer.press("Enter")
    theirs = bob.get_by_test_id("message").filter(has_text="Meeting at 4")
    expect(theirs).to_contain_text("(edited)")
    expect(composer).to_have_value("")

    # On the phone, a long press opens the menu as a sheet; Bob forwards to Development.
    bubble = theirs.locator(".msg-bubble")
    box = bubble.bounding_box()
    bubble.dispatch_event("touchstart", {"touches": [{"identifier": 1, "clientX": box["x"] + 10, "clientY": box["y"] + 10}]})
    expect(bob.get_by_test_id("message-menu")).to_be_visible()
    expect(bob.get_by_test_id("message-menu")).to_have_attribute("data-sheet", "true")
    expect(bob.get_by_test_id("action-edit")).to_have_count(0)  # not his message
    bob.get_by_test_id("action-forward").click()
    dialog = bob.get_by_test_id("forward-dialog")
    dialog.locator("li", has_text="Development").locator("input").check()
    dialog.get_by_test_id("forward-send").click()
    expect(dialog).to_be_hidden()

    # Alice recalls hers: Bob sees it go.
    open_menu(alice, messages_with(alice, "Meeting at 4"))
    alice.get_by_test_id("action-recall").click()
    expect(bob.locator('[data-testid="message"] .msg-recalled')).to_be_visible()
    expect(bob.get_by_test_id("message").filter(has_text="Meeting at 4")).to_have_count(0)

    # The copy in Development is marked forwarded, sent by Bob.
    alice.locator('[data-testid="conversation"][data-kind="department"]').click()
    copy = messages_with(alice, "Meeting at 4")
    expect(copy.get_by_test_id("forwarded")).to_be_visible()
    expect(copy).to_have_attribute("data-sender", str(demo["bob"].id))
