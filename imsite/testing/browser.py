"""Debian's Chromium under Playwright, kept to this machine."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Resolve nothing but the loopback names: a test never reaches beyond this machine.
HERMETIC_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"]


def launch(playwright, *, extra_args: list[str] | None = None):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=HERMETIC_ARGS + (extra_args or []))


def launch_persistent(playwright, user_data_dir, *, extra_args: list[str] | None = None, **context_options):
    """Chromium with a profile kept in ``user_data_dir``: one context, as a person's own
    browser has. What Chromium refuses in the incognito contexts of ``launch()`` (installing
    a web app) it allows here."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir, executable_path=CHROMIUM, args=HERMETIC_ARGS + (extra_args or []), **context_options
    )


def login_context(browser, *, base_url: str, user, **context_options):
    """A browser context signed in as ``user`` with a session made in the shared database."""
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    # Playwright's sync API runs the test in a greenlet with its own database connection;
    # close it so that nothing holds the test database open at teardown.
    connection.close()
    context = browser.new_context(base_url=base_url, **context_options)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )
    return context


def open_chat(browser, web_worker, user, **context_options):
    """A page of the web chat signed in as ``user``, once its socket is online."""
    from playwright.sync_api import expect

    page = login_context(browser, base_url=web_worker.url, user=user, **context_options).new_page()
    page.goto("/chat/")
    # A first connection on a busy machine (a worker still warming up) may take a while.
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online", timeout=20_000)
    return page


def sign_in_to_chat(page, username: str, *, timeout: float = 20_000):
    """Sign ``username`` in on the sign-in page, as a person does, and wait until the chat it
    leads to is online. Returns the page."""
    from playwright.sync_api import expect

    page.goto("/accounts/login/?next=/chat/")
    page.fill("#id_username", username)
    page.fill("#id_password", "switchboard-demo")
    page.click("form button[type=submit]")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online", timeout=timeout)
    return page


def messages_with(page, text):
    """The messages on the page that contain this text."""
    return page.locator('[data-testid="message"]', has_text=text)


def open_direct(page, username):
    """Open the direct conversation with ``username`` as a person would: from the inbox if
    it is there, else from the New chat dialog's contacts."""
    from playwright.sync_api import expect

    row = page.locator(f'[data-testid="conversation"][data-kind="direct"][data-username="{username}"]')
    if row.count():
        row.click()
    else:
        page.get_by_test_id("new-chat").click()
        page.locator(f'[data-testid="new-chat-dialog"] [data-testid="contact"][data-username="{username}"]').click()
    expect(page.get_by_test_id("composer")).to_be_visible()
    expect(page.get_by_test_id("conversation-title")).not_to_be_empty()


def say(page, text):
    page.get_by_test_id("composer").fill(text)
    page.get_by_test_id("composer").press("Enter")


def serious_accessibility_violations(page) -> list[dict]:
    """What axe-core (bundled by axe-playwright-python) finds on the page as it stands, of
    impact serious or critical: each rule with the elements that break it."""
    from pathlib import Path

    import axe_playwright_python

    page.add_script_tag(path=str(Path(axe_playwright_python.__file__).with_name("axe.min.js")))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
        }))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]
