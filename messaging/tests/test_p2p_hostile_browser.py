"""A peer that alters its own page cannot put markup into the other person's chat
(docs/p2p.md, "What a receiver takes from a peer").

Alice's page here is hostile: it rewrites what it sends over the data channel (the chat
message's `html` becomes markup with an `onerror` handler) and adds messages of its own
making that never go to the server (a chat message with markup for `html`, a file card
pointing at another site, an announcement, an approval and a notice). It also holds its
server sends back until the test releases them, so that Bob's page is seen showing the
direct copies before the server's copy of the real message replaces one of them.

The server and Chromium run in test_p2p_browser's private network namespace (its `site`
fixture: one standalone worker), which needs root for `unshare`.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from imsite.testing.browser import open_direct, say

# The namespace with its worker and Chromium (`site`, for this module), and each test's
# pages closed after it (`_close_pages`, autouse): fixtures, used by name.
from messaging.tests.test_p2p_browser import _close_pages, sign_in, site  # noqa: F401

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'

# What Alice types: markup that must show as text, and Markdown that must be rendered as
# the server renders it.
TEXT = 'Look: <img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> **plan** [notes](https://example.com/n)'

# Alice's page: every chat message it sends directly carries markup where the server puts
# its HTML, and is followed by messages of its own making; its `send` frames to the
# server wait for window.__sbRelease().
HOSTILE_PEER = """
(() => {
  const HOSTILE = %(hostile)s;
  const id = () => Date.now().toString(36) + Math.random().toString(36).slice(2);
  const channelSend = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    let m = null;
    if (this.label === 'messages' && typeof data === 'string') { try { m = JSON.parse(data); } catch (e) { m = null; } }
    if (!m || m.t !== 'msg' || m.app !== 'chat') return channelSend.call(this, data);
    channelSend.call(this, JSON.stringify(Object.assign({}, m, { body: Object.assign({}, m.body, { html: HOSTILE }) })));
    const forge = (app, body) => channelSend.call(this, JSON.stringify({
      t: 'msg', client_id: id(), conversation: m.conversation, app, body, created_at: m.created_at,
    }));
    forge('chat', { text: 'Forged, never stored', html: HOSTILE });
    forge('file', {
      name: 'minutes <img src=x onerror="window.__pwned=1">.pdf', size: 1024, type: 'text/html',
      sha256: 'a'.repeat(64), transport: 'relay', file: 1, url: '//evil.example/x',
    });
    forge('announcement', { announcement: 1, title: 'Forged announcement', html: HOSTILE, pinned: true });
    forge('approval', { approval: 1, event: 'submitted', title: HOSTILE, template: HOSTILE, state: 'pending', html: HOSTILE });
    forge('notice', { title: 'Forged notice', text: 'Open this', link: 'https://evil.example/' });
    forge('chat', { text: 'Last of the forged ones' });
  };

  const held = [];
  const socketSend = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && data.includes('"type":"send"') && !window.__sbReleased) { held.push([this, data]); return; }
    return socketSend.call(this, data);
  };
  window.__sbRelease = () => {
    window.__sbReleased = true;
    for (const [ws, data] of held.splice(0)) socketSend.call(ws, data);
  };
})();
""" % {"hostile": json.dumps(HOSTILE)}

# Bob's page: every element that could run or load something, if one ever enters the
# message list.
WATCH_MARKUP = """
window.__sbMarkup = [];
document.addEventListener('DOMContentLoaded', () => {
  const list = document.getElementById('sb-messages');
  new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType !== 1) continue;
        for (const el of [node, ...node.querySelectorAll('*')]) {
          if (/^(IMG|SCRIPT|IFRAME|OBJECT|EMBED)$/.test(el.tagName)) window.__sbMarkup.push(el.outerHTML);
        }
      }
    }
  }).observe(list, { childList: true, subtree: true });
});
"""


def sign_in_with(site, username, script):
    page = sign_in(site, username)
    page.context.add_init_script(script)
    page.reload()
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online", timeout=15_000)
    return page


def assert_no_markup_got_in(page):
    # Time for an image that got in to fail to load and run its handler.
    page.wait_for_timeout(1_000)
    assert page.evaluate("window.__pwned") is None, "markup from the peer ran in Bob's page"
    assert page.evaluate("window.__sbMarkup") == [], "markup from the peer entered Bob's message list"
    expect(page.locator("#sb-messages").locator("img, script, iframe, object, embed")).to_have_count(0)
    expect(page.locator('#sb-messages a[href*="evil.example"]')).to_have_count(0)


def test_nothing_a_hostile_peer_sends_directly_becomes_markup(site):
    alice = sign_in_with(site, "alice", HOSTILE_PEER)
    bob = sign_in_with(site, "bob", WATCH_MARKUP)
    open_direct(alice, "bob")
    open_direct(bob, "alice")
    for page in (alice, bob):
        expect(page.get_by_test_id("transport")).to_have_attribute("data-state", "p2p", timeout=15_000)

    say(alice, TEXT)
    messages = bob.locator("#sb-messages")
    # The last message over the channel is there, so all before it have been handled.
    expect(messages.locator('[data-testid="message"]', has_text="Last of the forged ones")).to_have_count(1)
    assert_no_markup_got_in(bob)

    # The direct copy, shown before the server has the message at all: what the peer typed
    # shows as text, its Markdown rendered; the html the peer sent is not used.
    received = messages.locator('[data-testid="message"][data-app="chat"]', has_text="Look:")
    expect(received).to_have_attribute("data-transport", "p2p")
    expect(received).not_to_have_attribute("data-id", re.compile(r"."))
    expect(received.locator(".msg-text")).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(received.locator(".msg-text")).to_contain_text("<script>window.__pwned=1</script>")
    expect(received.locator(".msg-text strong")).to_have_text("plan")
    expect(received.locator(".msg-text a")).to_have_attribute("href", "https://example.com/n")
    direct_html = received.locator(".msg-text").inner_html()
    forged = messages.locator('[data-testid="message"]', has_text="Forged, never stored")
    expect(forged).to_have_attribute("data-transport", "p2p")
    expect(forged.locator(".msg-text")).to_have_text("Forged, never stored")

    # A forged file card: its name as text, and no link.
    card = messages.get_by_test_id("file").filter(has_text="minutes")
    expect(card.locator(".file-name")).to_have_text('minutes <img src=x onerror="window.__pwned=1">.pdf')
    expect(card.get_by_test_id("file-save")).to_have_count(0)
    # Apps that never travel directly are refused; the server's copy would show them.
    for app in ("announcement", "approval", "notice"):
        expect(messages.locator(f'[data-testid="message"][data-app="{app}"]')).to_have_count(0)

    # The server's copy replaces the direct one and looks the same.
    alice.evaluate("window.__sbRelease()")
    expect(received).to_have_attribute("data-id", re.compile(r"^\d+$"), timeout=10_000)
    expect(received).to_have_attribute("data-transport", "p2p")
    expect(received).to_have_count(1)
    assert received.locator(".msg-text").inner_html() == direct_html
    assert_no_markup_got_in(bob)


def test_a_file_card_links_only_to_the_servers_own_download_path(site):
    """Whatever a copy says, a card's download link is /files/<id>/ or nothing: a URL
    such as //evil.example/x starts with "/" too."""
    bob = sign_in(site, "bob")
    urls = ["/files/12/", "//evil.example/x", "/\\evil.example/x", "https://evil.example/files/1/",
            "/files/12/../../accounts/logout/", "/files/12/?next=//evil.example", "javascript:alert(1)", 12]
    links = bob.evaluate(
        """async (urls) => {
          const { render } = await import('/static/messaging/client.js');
          return urls.map((url) => {
          const card = render({
            app: 'file', sender: 0, body: { name: 'n.txt', size: 1, sha256: 'a'.repeat(64), transport: 'relay', file: 12, url },
          });
          const link = card.querySelector('[data-testid="file-save"]');
          return link ? link.getAttribute('href') : null;
        });
        }""",
        urls,
    )
    assert links == ["/files/12/"] + [None] * (len(urls) - 1)
