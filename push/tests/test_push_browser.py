"""A push in a real browser (Playwright with Debian's Chromium): delivered to the app's
service worker through the DevTools protocol (``ServiceWorker.deliverPushMessage``, as a
push service's message arrives), it shows a notification with the push's title, body and
tag, and the notification's click handler takes the open window to the conversation.

The server is a standalone Switchboard on its own SQLite database; nothing here needs
more than one worker.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from imsite.testing.browser import launch_persistent, sign_in_to_chat
from imsite.testing.servers import demo_server

pytestmark = [pytest.mark.browser]

NOTIFICATIONS = """() => navigator.serviceWorker.ready
  .then((registration) => registration.getNotifications())
  .then((shown) => shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url })))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("push-browser"), "push-browser") as server:
        yield server


def test_a_push_shows_a_notification_whose_click_opens_the_conversation(server, tmp_path):
    with sync_playwright() as playwright:
        context = launch_persistent(playwright, tmp_path / "profile", base_url=server.url)
        try:
            context.grant_permissions(["notifications"], origin=server.url)
            page = context.pages[0] if context.pages else context.new_page()
            sign_in_to_chat(page, "alice")
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
            row = page.locator('[data-testid="conversation"]').first
            expect(row).to_be_visible()
            conversation, name = row.get_attribute("data-id"), row.get_attribute("data-name") or ""
            assert conversation and page.evaluate("location.hash") == ""

            cdp = context.new_cdp_session(page)
            registrations = []
            cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
            cdp.send("ServiceWorker.enable")

            def ours():
                return [r for r in registrations if r["scopeURL"] == server.url + "/" and not r["isDeleted"]]

            for _wait in range(100):  # the events come as the protocol sends them
                if ours():
                    break
                page.wait_for_timeout(100)
            registration = ours()[-1]
            # What push.delivery sends (the push service hands the browser the decrypted payload).
            payload = {
                "title": "Bob Li",
                "body": "Lunch at noon?",
                "url": f"/chat/#conversation-{conversation}",
                "tag": f"switchboard-conversation-{conversation}",
            }
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {"origin": server.url, "registrationId": registration["registrationId"], "data": json.dumps(payload)},
            )
            page.wait_for_function(f"({NOTIFICATIONS})().then((shown) => shown.length === 1)", timeout=10_000)
            [shown] = page.evaluate(NOTIFICATIONS)
            assert shown == {"title": "Bob Li", "body": "Lunch at noon?", "tag": payload["tag"], "url": payload["url"]}

            # A second push of the conversation replaces the first (the same tag).
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": server.url,
                    "registrationId": registration["registrationId"],
                    "data": json.dumps({**payload, "body": "2 new messages · Lunch at noon?"}),
                },
            )
            page.wait_for_function(
                f"({NOTIFICATIONS})().then((shown) => shown.length === 1 && shown[0].body.startsWith('2 new'))",
                timeout=10_000,
            )

            # The click: the handler the notification's click runs (Chromium's DevTools
            # cannot click a system notification), given the notification's own URL.
            [worker] = context.service_workers
            worker.evaluate("([url]) => openAt(new URL(url, self.location.origin).href)", [payload["url"]])
            expect(page).to_have_url(f"{server.url}/chat/#conversation-{conversation}", timeout=10_000)
            expect(page.get_by_test_id("composer")).to_be_visible()
            if name:
                expect(page.get_by_test_id("conversation-title")).to_contain_text(name)
            else:
                expect(page.get_by_test_id("conversation-title")).not_to_be_empty()
        finally:
            context.close()
