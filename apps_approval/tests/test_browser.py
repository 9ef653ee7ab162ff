"""A manager approves from the chat card; the requester's card turns to approved live."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from apps_approval import services
from imsite.testing.browser import launch, login_context
from imsite.testing.servers import servers

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path):
    database = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": ",".join(settings.REDIS_URLS),
    }
    with servers(["web-1"], env, tmp_path) as (web,):
        yield web


def test_manager_approves_from_the_chat_card(demo, server, monkeypatch):
    approval, _ = services.approval_submit(
        requester=demo["alice"], template_code="leave", client_id=str(uuid.uuid4()),
        data={"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-02", "reason": "Family visit"},
    )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        pages = {}
        for username in ("alice", "dev_lead"):
            page = login_context(browser, base_url=server.url, user=demo[username]).new_page()
            page.goto("/chat/")
            expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
            pages[username] = page
        pages["alice"].locator('[data-testid="contact"][data-username="dev_lead"]').click()
        pages["dev_lead"].locator('[data-testid="contact"][data-username="alice"]').click()

        alice_card = pages["alice"].locator(f'[data-testid="approval-card"][data-approval="{approval.pk}"]').first
        manager_card = pages["dev_lead"].locator(f'[data-testid="approval-card"][data-approval="{approval.pk}"]').first
        expect(alice_card.get_by_test_id("approval-state")).to_have_attribute("data-state", "pending")
        expect(manager_card).to_contain_text("Family visit")
        manager_card.get_by_test_id("approval-approve").click()

        expect(manager_card.get_by_test_id("approval-state")).to_have_attribute("data-state", "approved")
        # The requester's card turns without a reload.
        expect(alice_card.get_by_test_id("approval-state")).to_have_attribute("data-state", "approved")
        browser.close()
    approval.refresh_from_db()
    assert approval.state == "approved"
