"""The phone layout in a real browser (Playwright with Debian's Chromium) at 390 × 844, a
phone's screen, and a desktop's screen beside it (docs/mobile.md, The phone layout).

The server is a standalone Switchboard on its own SQLite database and in-memory channel
layer (imsite.testing.servers.standalone_env): nothing here needs more than one worker.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from imsite.testing.browser import launch, messages_with, say, serious_accessibility_violations, sign_in_to_chat
from imsite.testing.servers import demo_server

pytestmark = [pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
TABS = ["Chat", "Approvals", "Attendance", "Announcements", "People"]
LEAVE = {"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-02", "reason": "holiday"}


class Api:
    """The REST API as one demo person."""

    def __init__(self, server, username: str) -> None:
        self.url = server.url
        self.token = server.token(username)

    def __call__(self, method: str, path: str, body=None):
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def say(self, to: int, text: str) -> None:
        self("POST", "/api/v1/messages/", {"client_id": str(uuid.uuid4()), "to": to, "body": {"text": text}})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("phone"), "phone") as server:
        yield server


@pytest.fixture(scope="module")
def office(server):
    """Alice and Bob have written to their head of department and each asked for leave,
    which waits for her decision."""
    alice, bob = Api(server, "alice"), Api(server, "bob")
    ids = {person["username"]: person["id"] for person in alice("GET", "/api/v1/contacts/")}
    for n in range(3):
        bob.say(ids["dev_lead"], f"Bob's note {n}")
    alice.say(ids["dev_lead"], "Can we meet at three?")
    for person in (alice, bob):
        person("POST", "/api/v1/approvals/", {"template": "leave", "client_id": str(uuid.uuid4()), "data": LEAVE})
    return {"ids": ids, "alice": alice, "bob": bob, "dev_lead": Api(server, "dev_lead")}


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def sign_in(browser, server, username: str, **context_options):
    return sign_in_to_chat(browser.new_context(base_url=server.url, **context_options).new_page(), username)


def unread_of(api) -> int:
    """What the inbox's API says is unread, outside muted conversations."""
    return sum(c["unread"] for c in api("GET", "/api/v1/conversations/") if not c["muted"])


def assert_touchable(locator, what: str) -> None:
    """Every element the locator finds is at least 44 × 44 CSS pixels."""
    assert locator.count(), what
    for box in locator.evaluate_all("els => els.map((e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"):
        assert box[0] >= 44 and box[1] >= 44, (what, box)


def audited(page, where: str) -> None:
    """axe-core finds no serious or critical problem (imsite/tests/test_accessibility_browser.py)."""
    found = serious_accessibility_violations(page)
    assert not found, f"{where}: " + "; ".join(f"{v['id']} ({v['help']}) at {v['nodes'][:3]}" for v in found)


def assert_no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], page.url


def test_a_phone_gets_tabs_with_badges_and_a_full_screen_conversation(chromium, server, office):
    unread = unread_of(office["dev_lead"])
    assert unread == 6  # four from Bob and two from Alice, one of each a request's card
    page = sign_in(chromium, server, "dev_lead", **PHONE)

    # The tab bar: five tabs, the chat's marked, the counts of the server on Chat and Approvals.
    tabbar = page.get_by_test_id("tabbar")
    expect(tabbar).to_be_visible()
    expect(tabbar.locator(".tabbar-label")).to_have_text(TABS)
    expect(page.get_by_test_id("tab-chat")).to_have_attribute("aria-current", "page")
    chat_badge, approvals_badge = page.get_by_test_id("tab-badge-chat"), page.get_by_test_id("tab-badge-approvals")
    expect(chat_badge).to_have_text(str(unread))
    expect(approvals_badge).to_have_text("2")
    # The tab bar is along the bottom of the screen; the top bar's links are gone into it.
    bar = tabbar.bounding_box()
    assert bar["y"] + bar["height"] == pytest.approx(844, abs=1) and bar["width"] == 390
    expect(page.locator(".topnav")).to_be_hidden()
    assert page.locator(".topbar").bounding_box()["height"] <= 50
    # Every tab, row and button of the inbox is a 44 px target.
    assert_touchable(tabbar.locator(".tabbar-item"), "tabs")
    for test_id in ("new-chat", "new-group", "sidebar-search", "conversation", "conversation-menu"):
        assert_touchable(page.get_by_test_id(test_id), test_id)
    assert_touchable(page.locator(".topbar a.avatar, .topbar button:visible"), "top bar")
    # The inbox ends above the tab bar.
    inbox = page.locator(".chat-sidebar").bounding_box()
    assert inbox["y"] + inbox["height"] <= bar["y"] + 1
    assert_no_sideways_scroll(page)
    audited(page, "the inbox with its tabs")

    # A conversation opens full screen: no top bar, no banners, no tabs; a back button.
    alice_row = page.locator('[data-testid="conversation"][data-username="alice"]')
    alice_unread = int(alice_row.get_by_test_id("unread").get_attribute("data-count"))
    assert alice_unread == 2
    alice_row.tap()
    composer = page.get_by_test_id("composer")
    expect(composer).to_be_visible()
    expect(composer).to_be_in_viewport()
    expect(page.get_by_test_id("conversations")).to_be_hidden()
    for hidden in (tabbar, page.locator(".topbar"), page.locator(".chat-banners > *").first):
        expect(hidden).to_be_hidden()
    assert page.locator(".chat-head").bounding_box()["y"] == 0
    assert page.url.endswith(f"#conversation-{page.locator('.chat-item.active').get_attribute('data-id')}")
    for test_id in ("back", "send", "composer"):
        assert_touchable(page.get_by_test_id(test_id), test_id)
    assert_touchable(page.locator(".composer-attach"), "attach")
    # Reading it takes its messages off the Chat tab's count at once.
    expect(chat_badge).to_have_attribute("data-count", str(unread - alice_unread))
    say(page, "On my phone")
    expect(messages_with(page, "On my phone")).to_have_attribute("data-status", re.compile("delivered|read"))
    assert_no_sideways_scroll(page)
    audited(page, "a conversation on the whole screen")

    # The keyboard resizes the page (interactive-widget=resizes-content): the header and the
    # composer both stay on the screen above it.
    page.set_viewport_size({"width": 390, "height": 500})
    expect(composer).to_be_in_viewport()
    form = page.locator("#sb-composer-form").bounding_box()
    assert form["y"] + form["height"] <= 500 + 0.5
    assert page.locator(".chat-head").bounding_box()["y"] == 0
    page.set_viewport_size(PHONE["viewport"])

    # Back returns to the inbox and its tabs ...
    page.get_by_test_id("back").tap()
    expect(page.get_by_test_id("conversations")).to_be_visible()
    expect(tabbar).to_be_visible()
    expect(page.locator(".topbar")).to_be_visible()
    expect(composer).to_be_hidden()
    assert "#conversation-" not in page.url
    # ... and so does the browser's own Back.
    alice_row.tap()
    expect(composer).to_be_visible()
    page.go_back()
    expect(page.get_by_test_id("conversations")).to_be_visible()
    expect(tabbar).to_be_visible()

    # A new message counts on the Chat tab as it arrives.
    office["bob"].say(office["ids"]["dev_lead"], "One more thing")
    expect(chat_badge).to_have_text(str(unread - alice_unread + 1))
    expect(chat_badge).to_be_visible()

    # The other tabs: each page marks its own, with the same counts, and fits the screen.
    for name, path in [("approvals", "/approvals/"), ("attendance", "/attendance/"),
                       ("announcements", "/announcements/"), ("people", "/contacts/")]:
        page.get_by_test_id(f"tab-{name}").tap()
        expect(page).to_have_url(re.compile(f"{path}$"))
        expect(page.get_by_test_id(f"tab-{name}")).to_have_attribute("aria-current", "page")
        expect(page.get_by_test_id("tab-chat")).not_to_have_attribute("aria-current", "page")
        expect(page.get_by_test_id("tab-badge-approvals")).to_have_text("2")
        expect(page.get_by_test_id("tab-badge-chat")).to_have_text(str(unread - alice_unread + 1))
        assert_touchable(page.locator("main .button:visible"), f"buttons of {path}")
        assert_no_sideways_scroll(page)
        audited(page, path)
    # The end of a page scrolls clear of the tab bar.
    page.get_by_test_id("tab-attendance").tap()
    expect(page.get_by_test_id("tab-attendance")).to_have_attribute("aria-current", "page")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = page.locator("main > :last-child").bounding_box()
    assert last["y"] + last["height"] <= page.get_by_test_id("tabbar").bounding_box()["y"]
    page.context.close()


def test_a_desktop_keeps_the_top_bar_and_the_two_panes(chromium, server, office):
    page = sign_in(chromium, server, "alice", **DESKTOP)
    expect(page.get_by_test_id("tabbar")).to_be_hidden()
    expect(page.locator(".topnav a")).to_have_text(["Chat", "Approvals", "Announcements", "Attendance", "People"])
    expect(page.locator(".topnav a.active")).to_have_text("Chat")
    sidebar, main = page.locator(".chat-sidebar"), page.locator(".chat-main")
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    page.locator('[data-testid="conversation"][data-username="dev_lead"]').click()
    expect(page.get_by_test_id("composer")).to_be_visible()
    # The inbox stays beside the open conversation, under the top bar; no back button.
    expect(sidebar).to_be_visible()
    expect(page.locator(".topbar")).to_be_visible()
    expect(page.get_by_test_id("back")).to_be_hidden()
    left, right = sidebar.bounding_box(), main.bounding_box()
    assert left["x"] == 0 and 260 <= left["width"] <= 321 and right["x"] >= left["width"]
    assert left["y"] == right["y"] and left["y"] >= page.locator(".topbar").bounding_box()["height"]
    # The New chat button keeps its label, the page ends at the screen's bottom.
    expect(page.get_by_test_id("new-chat")).to_have_text("New chat")
    assert right["y"] + right["height"] == pytest.approx(800, abs=1)
    page.goto("/approvals/")
    expect(page.get_by_test_id("tabbar")).to_be_hidden()
    expect(page.locator(".topnav a.active")).to_have_text("Approvals")
    page.context.close()
