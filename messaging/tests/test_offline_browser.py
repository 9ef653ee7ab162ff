"""Working offline in a real browser (Playwright with Debian's Chromium; docs/mobile.md,
"Working offline"): the chat page opens from the service worker with the network off and
shows the inbox and messages kept in IndexedDB; what is written meanwhile waits, even
across a reload, and is delivered once the network is back; the app's badge follows the
unread total; signing out leaves nothing of the person on the device.

The server is a standalone Switchboard on its own SQLite database and in-memory channel
layer (imsite.testing.servers.standalone_env), as in core/tests/test_pwa_browser.py.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from imsite.testing.browser import launch_persistent, messages_with, say, sign_in_to_chat
from imsite.testing.servers import demo_server

pytestmark = [pytest.mark.browser]

# The Badging API, watched: every number the page puts on the app's icon (0 for cleared).
WATCH_BADGE = """
window.__badge = [];
Navigator.prototype.setAppBadge = function (n) { window.__badge.push(n === undefined ? -1 : n); return Promise.resolve(); };
Navigator.prototype.clearAppBadge = function () { window.__badge.push(0); return Promise.resolve(); };
"""

# What the chat keeps in IndexedDB, read as another script of the site would.
READ_KEPT = """async (conversation) => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes('switchboard')) return null;
  const db = await new Promise((ok, no) => { const r = indexedDB.open('switchboard'); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const read = (store, how) => new Promise((ok) => { const r = how(db.transaction(store).objectStore(store)); r.onsuccess = () => ok(r.result); });
  const owner = await read('kv', (s) => s.get('owner'));
  const inbox = await read('kv', (s) => s.get('inbox'));
  const kept = await read('conversations', (s) => s.get(conversation));
  const outbox = await read('outbox', (s) => s.getAll());
  db.close();
  return {
    owner,
    inbox: inbox ? inbox.conversations.map((c) => c.id) : [],
    last: inbox ? inbox.conversations.map((c) => c.last_message && c.last_message.body.text) : [],
    messages: kept ? kept.messages.map((m) => m.body.text) : [],
    outbox: outbox.map((o) => o.body.text),
  };
}"""

# A kept message changed behind the page's back: its html now carries a script.
TAMPER = """async ([conversation, text]) => {
  const db = await new Promise((ok) => { const r = indexedDB.open('switchboard'); r.onsuccess = () => ok(r.result); });
  const store = db.transaction('conversations', 'readwrite').objectStore('conversations');
  await new Promise((ok) => {
    const r = store.get(conversation);
    r.onsuccess = () => {
      const record = r.result;
      const m = record.messages.find((x) => x.body.text === text);
      m.body.html = '<p><img src="/static/favicon.svg" onerror="window.__pwned = 1" onload="window.__pwned = 1"><strong>Kept</strong> <script>window.__pwned = 1</script><b>html</b></p>';
      store.put(record).onsuccess = ok;
    };
  });
  db.close();
}"""

PAGE_KEPT = "caches.open('switchboard-pages').then((c) => c.match('/chat/')).then((r) => !!r)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("offline"), "offline") as server:
        yield server


def eventually(page, script: str, arg=None, timeout: float = 10) -> object:
    """The value of an asynchronous script once it is truthy (wait_for_function takes a
    promise for a truthy value at once)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script, arg)
        if value or time.monotonic() > deadline:
            assert value, f"still not: {script[:120]}"
            return value
        page.wait_for_timeout(200)


def rest(server, token: str, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_offline_the_chat_opens_with_what_it_kept_and_sends_what_was_written_once_back(server, tmp_path):
    bob = server.token("bob")
    alice_id = next(c["id"] for c in rest(server, bob, "GET", "/api/v1/contacts/") if c["username"] == "alice")
    sent = rest(server, bob, "POST", "/api/v1/messages/", {
        "client_id": str(uuid.uuid4()), "to": alice_id, "app": "chat", "body": {"text": "Hello **Alice**"},
    })  # fmt: skip
    conversation = sent["conversation"]

    with sync_playwright() as playwright:
        context = launch_persistent(playwright, tmp_path / "profile", base_url=server.url)
        context.add_init_script(WATCH_BADGE)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            sign_in_to_chat(page, "alice")
            state = page.get_by_test_id("connection-state")
            # Installed (the whole shell fetched) and in charge of the page: slow on a busy machine.
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=45_000)

            # Bob's message waits unread: the app's icon says 1.
            row = page.locator(f'[data-testid="conversation"][data-id="{conversation}"]')
            expect(row.get_by_test_id("unread")).to_have_text("1")
            page.wait_for_function("window.__badge.at(-1) === 1")
            row.click()
            expect(messages_with(page, "Hello Alice").locator("strong")).to_have_text("Alice")
            page.wait_for_function("window.__badge.at(-1) === 0")  # read: cleared
            say(page, "Hi Bob, *from* Alice")
            expect(messages_with(page, "Hi Bob, from Alice")).to_have_attribute("data-status", re.compile("delivered|read"))

            # Kept: the chat page by the service worker, the inbox and both messages in IndexedDB.
            eventually(page, f"() => {PAGE_KEPT}")
            both_kept = "k && k.messages.length === 2 && k.last[0] === k.messages[1] && k"  # the inbox too
            kept = eventually(page, f"(c) => ({READ_KEPT})(c).then((k) => {both_kept})", conversation)
            assert kept["inbox"][0] == conversation
            assert kept["messages"] == ["Hello **Alice**", "Hi Bob, *from* Alice"]
            assert kept["owner"] == alice_id and kept["outbox"] == []
            page.evaluate(TAMPER, [conversation, "Hello **Alice**"])

            # The network goes: the chat opens all the same, from what was kept.
            context.set_offline(True)
            page.reload()
            expect(state).to_have_attribute("data-state", "offline")
            expect(state).to_have_attribute("data-saved", "true")
            expect(state).to_contain_text("Offline — showing saved messages")
            assert page.url.endswith(f"/chat/#conversation-{conversation}")
            expect(row).to_be_visible()
            expect(row.get_by_test_id("preview")).to_have_text("You: Hi Bob, *from* Alice")
            expect(page.get_by_test_id("conversation-title")).to_have_text("Bob Martin")
            expect(page.get_by_test_id("saved-messages")).to_be_visible()
            expect(page.get_by_test_id("message")).to_have_count(2)
            expect(messages_with(page, "Hi Bob, from Alice").locator("em")).to_have_text("from")
            # What came back from the storage was not trusted as markup: the server's
            # allow-list again, no picture, no script, nothing run.
            tampered = messages_with(page, "Kept")
            expect(tampered.locator("strong")).to_have_text("Kept")
            assert tampered.locator("img, script, b").count() == 0
            assert page.evaluate("window.__pwned") is None

            # Written offline: it waits, and a reload (the page closed) keeps it waiting.
            say(page, "Written offline")
            waiting = messages_with(page, "Written offline")
            expect(waiting).to_have_attribute("data-status", "sending")
            eventually(page, f"(c) => ({READ_KEPT})(c).then((k) => k.outbox.includes('Written offline'))", conversation)
            page.reload()
            expect(state).to_have_attribute("data-saved", "true")
            expect(waiting).to_have_attribute("data-status", "sending")

            # The network is back: the server's messages replace the kept ones, and what was
            # written is delivered, once.
            context.set_offline(False)
            expect(state).to_have_attribute("data-state", "online", timeout=20_000)
            expect(waiting).to_have_attribute("data-status", re.compile("delivered|read"), timeout=20_000)
            expect(page.get_by_test_id("saved-messages")).to_have_count(0)
            expect(messages_with(page, "Hello Alice").locator("strong")).to_have_text("Alice")
            history = rest(server, bob, "GET", f"/api/v1/conversations/{conversation}/messages/")["results"]
            assert [m["body"]["text"] for m in history] == ["Hello **Alice**", "Hi Bob, *from* Alice", "Written offline"]
            eventually(page, f"(c) => ({READ_KEPT})(c).then((k) => k.outbox.length === 0)", conversation)

            # Signing out leaves nothing of Alice's on the device: offline, /chat/ is the
            # offline page.
            page.get_by_role("button", name="Sign out").click()
            expect(page.locator("#id_username")).to_be_visible()
            eventually(page, "() => indexedDB.databases().then((l) => !l.some((d) => d.name === 'switchboard'))")
            eventually(page, "() => caches.has('switchboard-pages').then((has) => !has)")
            context.set_offline(True)
            page.goto("/chat/")
            expect(page.get_by_test_id("offline")).to_be_visible()
        finally:
            context.close()
