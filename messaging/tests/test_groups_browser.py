"""Group management in a real browser: the owner adds a member, who sees the group appear
live; the owner renames it and sets its notice, which every member sees; a member
leaves, and the group goes from their inbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import open_chat, say, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def group_row(page):
    return page.locator('[data-testid="conversation"][data-kind="group"]')


def test_the_owner_adds_renames_and_a_member_leaves(demo, web_worker, browser):
    alice = open_chat(browser, web_worker, demo["alice"])
    bob = open_chat(browser, web_worker, demo["bob"], viewport={"width": 390, "height": 800})
    lead = open_chat(browser, web_worker, demo["dev_lead"])

    alice.get_by_test_id("new-group").click()
    alice.get_by_test_id("group-title").fill("Lunch")
    alice.locator('[data-testid="new-group-dialog"] [data-testid="group-member"][data-username="bob"]').check()
    alice.get_by_test_id("create-group").click()
    expect(alice.get_by_test_id("conversation-title")).to_have_text("Lunch")
    say(alice, "Who is in?")
    expect(group_row(lead)).to_have_count(0)

    # The owner adds Development's lead, who sees the group appear.
    alice.get_by_test_id("group-info").click()
    dialog = alice.get_by_test_id("group-info-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("group-add-open").click()
    dialog.locator('[data-testid="group-add-list"] [data-username="dev_lead"]').check()
    assert serious_accessibility_violations(alice) == []
    dialog.get_by_test_id("group-add").click()
    expect(dialog.get_by_test_id("group-info-member")).to_have_count(3)
    expect(group_row(lead)).to_have_count(1)
    group_row(lead).click()
    expect(lead.get_by_test_id("group-event").last).to_have_text(f"{demo['alice'].name} added {demo['dev_lead'].name}")
    expect(lead.get_by_test_id("group-info")).to_be_visible()

    # Renamed, with a notice: the members see both live. Only the owner may change them.
    dialog.get_by_test_id("group-rename-input").fill("Friday lunch")
    dialog.get_by_test_id("group-rename").click()
    dialog.get_by_test_id("group-notice-input").fill("Noon, <b>canteen</b>")
    dialog.get_by_test_id("group-notice-save").click()
    expect(lead.get_by_test_id("conversation-title")).to_have_text("Friday lunch")
    expect(lead.get_by_test_id("group-notice")).to_have_text("Noon, <b>canteen</b>")  # text, never markup
    lead.get_by_test_id("group-info").click()
    lead_dialog = lead.get_by_test_id("group-info-dialog")
    expect(lead_dialog.get_by_test_id("group-info-member")).to_have_count(3)
    expect(lead_dialog.get_by_test_id("group-rename-input")).to_have_count(0)
    expect(lead_dialog.get_by_test_id("group-remove")).to_have_count(0)
    lead_dialog.get_by_test_id("group-info-close").click()
    alice.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Bob, on his phone, leaves.
    expect(group_row(bob)).to_contain_text("Friday lunch")
    group_row(bob).click()
    expect(bob.get_by_test_id("group-notice")).to_be_visible()
    bob.get_by_test_id("group-info").click()
    bob_dialog = bob.get_by_test_id("group-info-dialog")
    bob_dialog.get_by_test_id("group-leave").click()
    bob_dialog.get_by_test_id("group-leave-confirm").click()
    expect(group_row(bob)).to_have_count(0)
    expect(bob.get_by_test_id("composer")).to_be_hidden()
    expect(alice.get_by_test_id("group-event").last).to_have_text(f"{demo['bob'].name} left the group")
    expect(lead.get_by_test_id("conversation-subtitle")).to_contain_text("2 members")
