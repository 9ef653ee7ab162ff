"""Pictures in a real browser: a pasted image is uploaded like an attached file, the other
person sees its thumbnail in the message and opens it at full size in a viewer; a file
dropped onto the conversation is sent the same way; a bare address becomes a link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsite.testing.browser import login_context, open_direct, say, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

# A PNG drawn in the page: 300 by 200, red on the left, blue on the right.
MAKE_PNG = """async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 300; canvas.height = 200;
  const g = canvas.getContext('2d');
  g.fillStyle = '#d00'; g.fillRect(0, 0, 150, 200);
  g.fillStyle = '#00d'; g.fillRect(150, 0, 150, 200);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  window.__png = new File([blob], 'whiteboard.png', { type: 'image/png' });
}"""

PASTE = """(text) => {
  const data = new DataTransfer();
  data.items.add(window.__png);
  if (text) data.setData('text/plain', text);
  const composer = document.getElementById('sb-composer');
  composer.focus();
  const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
  return composer.dispatchEvent(event);
}"""

DROP = """() => {
  const data = new DataTransfer();
  data.items.add(new File(['minutes of the meeting'], 'minutes.txt', { type: 'text/plain' }));
  const pane = document.getElementById('sb-conversation');
  for (const type of ['dragenter', 'dragover']) {
    pane.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
  }
  const active = pane.classList.contains('file-drop-active');
  pane.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  return [active, pane.classList.contains('file-drop-active')];
}"""


def open_chat(browser, worker, user):
    page = login_context(browser, base_url=worker.url, user=user).new_page()
    page.goto("/chat/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    return page


@pytest.fixture
def relay_worker(services_env, tmp_path):
    """A worker on which files always go through the server (no direct channel to wait for)."""
    from imsite.testing.servers import servers

    env = {**services_env, "P2P_ENABLED": "false", "MEDIA_ROOT": str(tmp_path / "worker-media")}
    with servers(["web-pictures"], env, tmp_path) as (web,):
        yield web


def test_a_pasted_picture_shows_inline_and_opens_full_size(demo, relay_worker, browser):
    alice = open_chat(browser, relay_worker, demo["alice"])
    bob = open_chat(browser, relay_worker, demo["bob"])
    open_direct(alice, "bob")
    open_direct(bob, "alice")

    alice.evaluate(MAKE_PNG)
    # A paste that carries text as well stays a paste of text: nothing is uploaded.
    assert alice.evaluate(PASTE, "cells A1:B2") is True
    # A paste of the picture alone attaches it, as the attach button would.
    assert alice.evaluate(PASTE, "") is False  # the page took it over

    thumbnail = bob.get_by_test_id("file-thumbnail")
    expect(thumbnail).to_have_count(1)
    expect(thumbnail).to_have_attribute("src", re.compile(r"^/files/\d+/thumbnail/$"))
    expect(thumbnail).to_have_attribute("alt", "whiteboard.png")
    expect(thumbnail).to_have_attribute("width", "300")
    expect(thumbnail).to_have_attribute("height", "200")
    bob.wait_for_function("document.querySelector('[data-testid=\"file-thumbnail\"]').naturalWidth === 300")
    expect(bob.get_by_test_id("file")).to_contain_text("whiteboard.png")
    # Alice's own message shows it too.
    expect(alice.get_by_test_id("file-thumbnail")).to_have_attribute("src", re.compile(r"^/files/\d+/thumbnail/$"))

    # Clicking opens the full-size copy in a modal viewer; Escape closes it.
    bob.get_by_test_id("file-picture").click()
    viewer = bob.get_by_test_id("picture-viewer")
    expect(viewer).to_be_visible()
    expect(bob.get_by_test_id("picture-viewer-title")).to_have_text("whiteboard.png")
    image = bob.get_by_test_id("picture-viewer-img")
    expect(image).to_have_attribute("src", re.compile(r"^/files/\d+/view/$"))
    expect(image).to_have_attribute("alt", "whiteboard.png")
    bob.wait_for_function("document.querySelector('[data-testid=\"picture-viewer-img\"]').naturalWidth === 300")
    expect(bob.get_by_test_id("picture-viewer-close")).to_be_focused()
    # The left of the full-size picture is red, the right blue.
    colours = bob.evaluate(
        """() => {
          const img = document.querySelector('[data-testid="picture-viewer-img"]');
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
          const g = canvas.getContext('2d');
          g.drawImage(img, 0, 0);
          return [Array.from(g.getImageData(20, 100, 1, 1).data), Array.from(g.getImageData(280, 100, 1, 1).data)];
        }"""
    )
    assert colours[0][0] > 180 and colours[0][2] < 60
    assert colours[1][2] > 180 and colours[1][0] < 60
    assert serious_accessibility_violations(bob) == []
    bob.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(bob.get_by_test_id("file-picture")).to_be_focused()

    # The Close button closes it too.
    bob.get_by_test_id("file-picture").click()
    expect(viewer).to_be_visible()
    bob.get_by_test_id("picture-viewer-close").click()
    expect(viewer).to_be_hidden()

    # A file dropped onto the conversation is sent like an attached one.
    assert alice.evaluate(DROP) == [True, False]
    expect(bob.get_by_test_id("file").filter(has_text="minutes.txt")).to_have_count(1)
    expect(bob.get_by_test_id("file-thumbnail")).to_have_count(1)  # no picture for a text file

    # A bare address becomes a safe link.
    say(alice, "the notes are at https://example.com/notes and www.example.com")
    link = bob.locator('[data-testid="message"] a[href="https://example.com/notes"]')
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b.*\bnoreferrer\b"))
    expect(bob.locator('[data-testid="message"] a[href="http://www.example.com"]')).to_have_count(1)
