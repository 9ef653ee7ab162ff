"""A Chinese-speaking manager's chat: the inbox previews, the approval card with its
template's labels, and the Attendance account's name all read in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps_attendance import services as attendance
from imsite.testing.browser import login_context, open_chat

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

ZH = {"locale": "zh-CN"}


@pytest.fixture
def checked_in(demo):
    """Sent before the browser starts: publishing uses this thread's own event loop."""
    return attendance.punch_record(user=demo["dev_lead"], kind="check_in", source="api", address="127.0.0.1")


def row(page, username):
    return page.locator(f'[data-testid="conversation"][data-kind="direct"][data-username="{username}"]')


def test_a_chinese_manager_sees_the_request_the_card_and_the_bot_in_chinese(demo, checked_in, web_worker, browser):
    manager = open_chat(browser, web_worker, demo["dev_lead"], **ZH)
    # The Attendance account's message, as the server previews it.
    bot = row(manager, "attendance")
    expect(bot).to_contain_text("考勤助手")
    expect(bot.get_by_test_id("preview")).to_contain_text("[考勤] ")
    expect(bot.get_by_test_id("preview")).to_contain_text("上班打卡")

    # Alice files a leave request in the approvals pages, in Chinese.
    alice = login_context(browser, base_url=web_worker.url, user=demo["alice"], **ZH).new_page()
    alice.goto("/approvals/new/leave/")
    expect(alice.locator("h1")).to_have_text("请假")
    expect(alice.locator('label[for="field-leave_type"]')).to_contain_text("请假类型")
    alice.select_option("#field-leave_type", "annual")
    alice.fill("#field-start", "2026-12-21")
    alice.fill("#field-end", "2026-12-22")
    alice.fill("#field-reason", "回老家")
    alice.get_by_test_id("approval-submit").click()
    expect(alice.get_by_test_id("approval-state")).to_have_attribute("data-state", "pending")

    # The manager's inbox shows it live, previewed by the page itself.
    expect(row(manager, "alice").get_by_test_id("preview")).to_have_text("[审批] 请假")
    row(manager, "alice").click()
    card = manager.get_by_test_id("approval-card").last
    expect(card.locator(".approval-card-title strong")).to_have_text("请假")
    expect(card.locator(".approval-card-summary")).to_contain_text("请假类型")
    expect(card.locator(".approval-card-summary")).to_contain_text("年假")
    expect(card.locator(".approval-card-summary")).to_contain_text("事由")
    expect(card.locator(".approval-card-step-name")).to_have_text("直属主管")
    expect(card.get_by_test_id("approval-approve")).to_have_text("同意")
    for english in ("Leave", "Annual", "Reason", "Manager", "Approve"):
        expect(card).not_to_contain_text(english)

    # After a reload, the server's previews say the same.
    manager.reload()
    expect(manager.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(row(manager, "alice").get_by_test_id("preview")).to_have_text("[审批] 请假")
    expect(row(manager, "attendance")).to_contain_text("考勤助手")
