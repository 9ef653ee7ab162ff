"""A notice from the HR system arrives live in an open chat and shows as a card."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import login_context
from integrations import services
from integrations.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_notice_arrives_live_as_a_card(demo, web_worker, browser):
    client, _secret = services.client_register(name="Acme HR", scopes=["notify"])
    page = login_context(
        browser, base_url=web_worker.url, user=demo["alice"], viewport={"width": 390, "height": 844}
    ).new_page()
    page.goto("/chat/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")

    def send():
        # Outside Playwright's event loop, as the HR system's request would be.
        services.notification_send(
            client=Client.objects.get(pk=client.pk), recipients=["alice"], title="Your November payslip",
            text="It is ready.\nOpen it in the HR portal.", link="https://hr.example/payslips/11", client_id="payslip-11",
        )

    sender = threading.Thread(target=send)
    sender.start()
    sender.join()
    page.get_by_text("Acme HR").first.click()
    card = page.get_by_test_id("notice-card")
    expect(card).to_contain_text("Your November payslip")
    expect(card).to_contain_text("Open it in the HR portal.")
    link = card.get_by_role("link")
    expect(link).to_have_attribute("href", "https://hr.example/payslips/11")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    box = card.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
