"""Hybrid delivery in real browsers: a WebRTC data channel when two pages can reach each
other, the server when they cannot (docs/p2p.md).

WebRTC needs an interface other than loopback, so the server and Chromium run in a private
network namespace made for this module (imsite.testing.netns); nothing there can reach
anything outside it. The server is a standalone Switchboard on its own SQLite database
and in-memory channel layer: one worker is all a pair of browsers needs.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect, sync_playwright

from imsite.testing.browser import HERMETIC_ARGS, open_direct, say, sign_in_to_chat
from imsite.testing.netns import PrivateNetwork
from imsite.testing.servers import ServerProcess, manage, standalone_env

pytestmark = [pytest.mark.browser]

# Only direct candidates exist, so an RTCPeerConnection limited to relay candidates (with no
# TURN server to give any) finds none: the forced failure of the direct path.
FORCE_RELAY = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  window.RTCPeerConnection = class extends Native {
    constructor(config) { super(Object.assign({}, config, { iceTransportPolicy: 'relay', iceServers: [] })); }
  };
})();
"""

# The largest value each page's transfer progress bars reached, by direction.
WATCH_PROGRESS = """
window.__sbProgress = { in: 0, out: 0 };
new MutationObserver((records) => {
  for (const r of records) {
    const el = r.target;
    if (!(el instanceof HTMLProgressElement) || el.dataset.testid !== 'transfer-progress') continue;
    const li = el.closest('[data-testid="transfer"]');
    const dir = li ? li.dataset.direction : 'out';
    window.__sbProgress[dir] = Math.max(window.__sbProgress[dir], Number(el.value) || 0);
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['value'] });
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    directory = tmp_path_factory.mktemp("p2p")
    env = {**standalone_env(directory), "P2P_CONNECT_TIMEOUT_MS": "3000", "FILE_MAX_BYTES": str(64 * 2**20)}
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", "--no-history", env=env)
    with PrivateNetwork() as network:
        server = ServerProcess("p2p", env, directory, network=network)
        try:
            server.wait_ready()
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=network.chromium(directory), args=HERMETIC_ARGS)
                yield SimpleNamespace(server=server, chromium=chromium, contexts=[])
                chromium.close()
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def _close_pages(site):
    """Each test's pages go with it: a page left open would take part in the next test's
    connections (an offer goes to every page of its recipient)."""
    yield
    while site.contexts:
        site.contexts.pop().close()


def sign_in(site, username, *, force_relay=False):
    context = site.chromium.new_context(base_url=site.server.url, accept_downloads=True)
    site.contexts.append(context)
    context.add_init_script(WATCH_PROGRESS)
    if force_relay:
        context.add_init_script(FORCE_RELAY)
    page = context.new_page()
    sign_in_to_chat(page, username, timeout=15_000)
    return page


def counters(page) -> dict[str, float]:
    """The worker's byte counters, read by a page (the server lives in the namespace)."""
    text = page.evaluate("fetch('/metrics').then((r) => r.text())")
    values = {"relay": 0.0, "p2p": 0.0}
    for line in text.splitlines():
        if line.startswith("switchboard_relay_bytes_total "):
            values["relay"] = float(line.split()[1])
        elif line.startswith("switchboard_p2p_bytes_total{"):
            values["p2p"] += float(line.split()[1])
    return values


def wait_for(predicate, message, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(message)


def random_file(directory: Path, name: str, size: int) -> tuple[Path, str]:
    path = directory / name
    data = os.urandom(size)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def saved_digest(page, card) -> str:
    with page.expect_download() as download:
        card.get_by_test_id("file-save").click()
    return hashlib.sha256(Path(download.value.path()).read_bytes()).hexdigest()


def test_text_and_a_5_mb_file_go_peer_to_peer(site, tmp_path):
    alice, bob = sign_in(site, "alice"), sign_in(site, "bob")
    open_direct(alice, "bob")
    open_direct(bob, "alice")
    for page in (alice, bob):
        expect(page.get_by_test_id("transport")).to_have_attribute("data-state", "p2p", timeout=15_000)

    before = counters(alice)
    say(alice, "Straight to you")
    received = bob.locator('[data-testid="message"]', has_text="Straight to you")
    expect(received).to_have_attribute("data-transport", "p2p")
    # The server stored it as well: the bubble took the stored copy's id.
    expect(received).to_have_attribute("data-id", re.compile(r"^\d+$"))
    expect(received).to_have_count(1)
    expect(alice.locator('[data-testid="message"]', has_text="Straight to you")).to_have_attribute("data-transport", "p2p")

    size = 5 * 2**20
    path, digest = random_file(tmp_path, "quarterly-report.bin", size)
    alice.get_by_test_id("file-input").set_input_files(str(path))
    card = bob.get_by_test_id("file").filter(has_text="quarterly-report.bin")
    expect(card).to_have_attribute("data-transport", "p2p", timeout=30_000)
    assert saved_digest(bob, card) == digest
    # Progress showed on both sides, up to the whole file.
    assert bob.evaluate("window.__sbProgress.in") == size
    assert alice.evaluate("window.__sbProgress.out") == size
    expect(bob.locator('[data-testid="message"][data-app="file"]')).to_have_count(1)

    wait_for(lambda: counters(alice)["p2p"] - before["p2p"] >= size, "the clients never reported the direct bytes")
    after = counters(alice)
    relayed, direct = after["relay"] - before["relay"], after["p2p"] - before["p2p"]
    print(f"offload: relay {relayed:.0f} B, p2p {direct:.0f} B, {direct / (direct + relayed):.2%} direct")
    assert relayed < 0.05 * size, f"the server carried {relayed:.0f} bytes of a {size}-byte transfer"


def test_when_the_direct_path_fails_text_and_files_go_through_the_server(site, tmp_path):
    alice, bob = sign_in(site, "alice", force_relay=True), sign_in(site, "bob", force_relay=True)
    open_direct(alice, "bob")
    open_direct(bob, "alice")

    started = time.monotonic()
    say(alice, "Through the server")
    received = bob.locator('[data-testid="message"]', has_text="Through the server")
    expect(received).to_have_attribute("data-transport", "relay", timeout=5_000)
    path, digest = random_file(tmp_path, "minutes.bin", 2**20)
    alice.get_by_test_id("file-input").set_input_files(str(path))
    card = bob.get_by_test_id("file").filter(has_text="minutes.bin")
    expect(card).to_have_attribute("data-transport", "relay", timeout=10_000)
    assert time.monotonic() - started < 15, "the fallback took too long to be called transparent"
    expect(card.get_by_test_id("file-save")).to_have_attribute("href", re.compile(r"^/files/\d+/$"))
    assert saved_digest(bob, card) == digest
    for page in (alice, bob):
        expect(page.get_by_test_id("transport")).to_have_attribute("data-state", "relay")


def test_a_peer_that_leaves_mid_transfer_leaves_nothing_half_done(site, tmp_path):
    alice, bob = sign_in(site, "alice"), sign_in(site, "bob")
    open_direct(alice, "bob")
    open_direct(bob, "alice")
    for page in (alice, bob):
        expect(page.get_by_test_id("transport")).to_have_attribute("data-state", "p2p", timeout=15_000)

    path, digest = random_file(tmp_path, "site-survey.bin", 48 * 2**20)
    alice.get_by_test_id("file-input").set_input_files(str(path))
    bob.wait_for_function("window.__sbProgress.in > 0", timeout=30_000)
    bob.context.close()

    transfer = alice.get_by_test_id("transfer")
    expect(transfer).to_have_attribute("data-state", "failed", timeout=15_000)
    expect(transfer).to_contain_text("went offline before the file arrived")
    expect(alice.get_by_test_id("file").filter(has_text="site-survey.bin")).to_have_count(0)

    # Sent again, it goes through the server: Bob is not there to take it directly.
    transfer.get_by_test_id("resend").click()
    expect(alice.get_by_test_id("file").filter(has_text="site-survey.bin")).to_have_attribute(
        "data-transport", "relay", timeout=60_000
    )
    bob = sign_in(site, "bob")
    open_direct(bob, "alice")
    cards = bob.get_by_test_id("file").filter(has_text="site-survey.bin")
    expect(cards).to_have_count(1)
    expect(cards).to_have_attribute("data-transport", "relay")
    assert saved_digest(bob, cards) == digest
