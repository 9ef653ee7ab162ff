"""The composer in a real browser: drafts that outlive the page, the length limit, and a
refused message put back to be edited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import login_context, messages_with, open_direct, say

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def open_chat(context):
    page = context.new_page()
    page.goto("/chat/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    return page


def test_each_conversation_keeps_its_draft_across_a_reload_and_a_closed_tab(demo, web_worker, browser):
    context = login_context(browser, base_url=web_worker.url, user=demo["alice"])
    page = open_chat(context)
    composer = page.get_by_test_id("composer")
    open_direct(page, "bob")
    composer.press_sequentially("Half a thought for Bob")
    open_direct(page, "dev_lead")
    expect(composer).to_have_value("")
    composer.fill("Diego, about the release")

    page.reload()  # at once: the draft typed a moment ago is kept too
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("composer")).to_have_value("Diego, about the release")
    open_direct(page, "bob")
    expect(composer).to_have_value("Half a thought for Bob")

    # A closed tab: another page of the same browser finds the drafts.
    page.close()
    page = open_chat(context)
    composer = page.get_by_test_id("composer")
    open_direct(page, "bob")
    expect(composer).to_have_value("Half a thought for Bob")

    # Sent, the draft is gone; emptied, too.
    composer.press("Enter")
    expect(messages_with(page, "Half a thought for Bob")).to_have_attribute("data-status", re.compile("delivered|read"))
    expect(composer).to_have_value("")
    open_direct(page, "dev_lead")
    expect(composer).to_have_value("Diego, about the release")
    composer.fill("")
    page.wait_for_timeout(600)
    page.reload()
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("composer")).to_have_value("")
    open_direct(page, "bob")
    expect(page.get_by_test_id("composer")).to_have_value("")
    keys = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('switchboard:draft:'))")
    assert keys == []

    # Another person signed in to the same browser does not get Alice's drafts.
    composer = page.get_by_test_id("composer")
    composer.fill("Only for Alice")
    page.wait_for_timeout(600)
    stored = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('switchboard:draft:'))")
    assert stored and all(k.startswith(f"switchboard:draft:{demo['alice'].id}:") for k in stored)


def test_a_text_past_the_limit_shows_how_long_it_is_and_is_not_sent(demo, web_worker, browser):
    page = open_chat(login_context(browser, base_url=web_worker.url, user=demo["alice"]))
    open_direct(page, "bob")
    composer = page.get_by_test_id("composer")
    counter = page.get_by_test_id("composer-count")
    send = page.get_by_test_id("send")
    error = page.locator("#sb-composer-error")

    composer.fill("x" * 8000)
    expect(counter).to_be_hidden()
    # Emoji count once each, as the server counts (12,000 UTF-16 units here).
    composer.fill("😀" * 6000)
    expect(counter).to_be_hidden()

    composer.fill("x" * 9120)
    expect(counter).to_be_visible()
    expect(counter).to_have_text("9,120 / 10,000")
    expect(counter).to_have_attribute("data-state", "near")
    expect(send).to_be_enabled()
    expect(error).to_be_hidden()

    composer.fill("x" * 10_512)
    expect(counter).to_have_text("10,512 / 10,000")
    expect(counter).to_have_attribute("data-state", "over")
    assert counter.evaluate("el => getComputedStyle(el).color") == "rgb(208, 59, 59)"
    expect(send).to_be_disabled()
    expect(error).to_have_text("This message is too long to send: 10,512 characters, at most 10,000.")
    composer.press("Enter")
    page.wait_for_timeout(500)
    expect(page.locator('[data-testid="message"]')).to_have_count(0)
    expect(composer).to_have_value("x" * 10_512)  # nor a new line

    # Down to the limit, it goes, and the server takes it.
    composer.fill("y" * 10_000)
    expect(error).to_be_hidden()
    expect(send).to_be_enabled()
    expect(counter).to_have_text("10,000 / 10,000")
    composer.press("Enter")
    sent = page.locator('[data-testid="message"]')
    expect(sent).to_have_count(1)
    expect(sent).to_have_attribute("data-status", re.compile("delivered|read"))
    expect(counter).to_be_hidden()


def test_a_refused_message_can_be_put_back_into_the_composer(demo, web_worker, browser):
    from contacts.models import Department, Membership

    page = open_chat(login_context(browser, base_url=web_worker.url, user=demo["alice"]))
    open_direct(page, "bob")
    composer = page.get_by_test_id("composer")

    # A text the server will never take (a NUL character, pasted from a binary file):
    # no Retry, but Edit and Discard.
    say(page, "build log \x00 attached")
    failed = page.locator('[data-testid="message"][data-status="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("NUL")
    expect(failed.get_by_test_id("retry")).to_have_count(0)
    expect(failed.get_by_test_id("discard")).to_be_visible()
    failed.get_by_test_id("edit-failed").click()
    expect(failed).to_have_count(0)
    expect(composer).to_have_value("build log \x00 attached")
    expect(composer).to_be_focused()
    composer.fill("build log attached")
    composer.press("Enter")
    expect(messages_with(page, "build log attached")).to_have_attribute("data-status", re.compile("delivered|read"))

    # Bob moves to Human Resources: Alice may no longer write to him. That may change
    # again, so Retry stays; Edit puts the text back before what she has begun since.
    Membership.objects.filter(user=demo["bob"]).update(department=Department.objects.get(code="hr"))
    say(page, "Are you still on the team?")
    failed = page.locator('[data-testid="message"][data-status="failed"]')
    expect(failed).to_have_count(1)
    expect(failed.get_by_test_id("retry")).to_be_visible()
    composer.fill("PS")
    failed.get_by_test_id("edit-failed").click()
    expect(failed).to_have_count(0)
    expect(composer).to_have_value("Are you still on the team?\n\nPS")
    expect(composer).to_be_focused()
    # The text put back is the conversation's draft.
    page.wait_for_timeout(600)
    page.reload()
    expect(page.get_by_test_id("composer")).to_have_value("Are you still on the team?\n\nPS")
