"""A manager approves from the chat card; the requester's card turns to approved live."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from apps_approval import services
from imsite.testing.browser import open_direct, login_context

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leave_request(demo):
    """Filed before the browser starts: publishing uses this thread's own event loop."""
    approval, _ = services.approval_submit(
        requester=demo["alice"], template_code="leave", client_id=str(uuid.uuid4()),
        data={"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-02", "reason": "Family visit"},
    )
    return approval


def test_manager_approves_from_the_chat_card(demo, leave_request, web_worker, browser):
    approval = leave_request
    pages = {}
    for username in ("alice", "dev_lead"):
        page = login_context(browser, base_url=web_worker.url, user=demo[username]).new_page()
        page.goto("/chat/")
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
        pages[username] = page
    open_direct(pages["alice"], "dev_lead")
    open_direct(pages["dev_lead"], "alice")

    alice_card = pages["alice"].locator(f'[data-testid="approval-card"][data-approval="{approval.pk}"]').first
    manager_card = pages["dev_lead"].locator(f'[data-testid="approval-card"][data-approval="{approval.pk}"]').first
    expect(alice_card.get_by_test_id("approval-state")).to_have_attribute("data-state", "pending")
    expect(manager_card).to_contain_text("Family visit")
    manager_card.get_by_test_id("approval-approve").click()

    expect(manager_card.get_by_test_id("approval-state")).to_have_attribute("data-state", "approved")
    # The requester's card turns without a reload.
    expect(alice_card.get_by_test_id("approval-state")).to_have_attribute("data-state", "approved")
    approval.refresh_from_db()
    assert approval.state == "approved"
