"""The installable app in a real browser (Playwright with Debian's Chromium): Chromium's own
installability check passes for the chat, and with the network gone the service worker
answers a page with the offline page it keeps (the chat page with the one it kept:
messaging/tests/test_offline_browser.py).

The server is a standalone Switchboard on its own SQLite database and in-memory channel
layer (imsite.testing.servers.standalone_env): nothing here needs more than one worker.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from imsite.testing.browser import launch_persistent, sign_in_to_chat
from imsite.testing.servers import demo_server

pytestmark = [pytest.mark.browser]

# An offer to install, as the browser makes one, whose prompt() is only counted (the real
# one opens the browser's install dialog).
OFFER = """() => {
  const offer = new Event('beforeinstallprompt', { cancelable: true });
  offer.prompt = () => { window.__sbPrompted = (window.__sbPrompted || 0) + 1; return Promise.resolve(); };
  window.dispatchEvent(offer);
  return offer.defaultPrevented;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("pwa"), "pwa") as server:
        yield server


@pytest.fixture
def chat(server, tmp_path):
    """Alice's chat, signed in through the sign-in page, once the service worker controls it.
    A browser with a profile of its own (Chromium installs nothing from an incognito one)."""
    with sync_playwright() as playwright:
        context = launch_persistent(playwright, tmp_path / "profile", base_url=server.url)
        try:
            yield sign_in(context)
        finally:
            context.close()


def sign_in(context):
    page = context.pages[0] if context.pages else context.new_page()
    sign_in_to_chat(page, "alice")
    # Installed (the shell cached), activated, and in charge of this page (clients.claim()).
    state = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)")
    assert state in ("activating", "activated")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    return page


def test_chromium_finds_the_chat_installable(chat):
    cdp = chat.context.new_cdp_session(chat)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_the_install_button_shows_when_the_browser_offers_and_prompts_once(chat):
    button = chat.get_by_test_id("install-app")
    # Chromium itself offers to install the chat (beforeinstallprompt).
    expect(button).to_be_visible(timeout=15_000)
    expect(button).to_have_text("Install app")
    # The page took the offer, so that the browser shows no banner of its own.
    assert chat.evaluate(OFFER) is True
    button.click()
    assert chat.evaluate("window.__sbPrompted") == 1
    expect(button).to_be_hidden()
    # A new offer, then the app installed from the browser's own menu: the button goes.
    chat.evaluate(OFFER)
    expect(button).to_be_visible()
    chat.evaluate("window.dispatchEvent(new Event('appinstalled'))")
    expect(button).to_be_hidden()


def test_offline_a_page_is_answered_with_the_offline_page_from_the_cache(chat):
    # A page opened before (the chat itself opens from the cache instead, with what it
    # kept: messaging/tests/test_offline_browser.py).
    chat.goto("/contacts/")
    expect(chat.locator("h1")).to_have_text("People")
    chat.context.set_offline(True)
    chat.reload()
    offline = chat.get_by_test_id("offline")
    expect(offline).to_be_visible()
    expect(offline).to_contain_text("You are offline")
    assert chat.url.endswith("/contacts/")  # the page asked for, not a redirect
    # Styled: the stylesheet came from the service worker's cache too.
    retry = chat.get_by_test_id("offline-retry")
    assert retry.evaluate("(a) => getComputedStyle(a).backgroundColor") == "rgb(47, 111, 237)"
    # Any other page as well, not only the ones opened before (in a tab of its own, so
    # that the first tab's own reload when the network is back cannot cut across it).
    approvals = chat.context.new_page()
    approvals.goto("/approvals/")
    expect(approvals.get_by_test_id("offline")).to_be_visible()
    assert approvals.url.endswith("/approvals/")

    # Back online, the page in front opens by itself.
    chat.context.set_offline(False)
    expect(approvals.get_by_test_id("offline")).to_have_count(0, timeout=15_000)
    assert approvals.url.endswith("/approvals/")
    expect(approvals.locator("h1")).to_have_text("Approvals")
