"""The phone's tab bar ({% tab_bar %}): on every page of a signed-in person, the page's own tab
marked, their unread messages on Chat and the requests waiting for them on Approvals."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from apps_approval import services as approvals
from messaging.models import ConversationMember
from messaging.send import message_send

pytestmark = pytest.mark.django_db

LEAVE = {"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-02", "reason": "holiday"}


def say(sender, to, n=1):
    for _ in range(n):
        result = message_send(sender=sender, client_id=str(uuid.uuid4()), to_user_id=to.pk, body={"text": "hi"})
    return result.message.conversation_id


def page(user, path: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def badge(html: str, tab: str) -> tuple[str, str, bool] | None:
    """A badge's count, text and whether it is hidden."""
    found = re.search(rf'<span class="tabbar-badge" data-testid="tab-badge-{tab}" data-count="(\d+)"( hidden)?>([^<]*)</span>', html)
    return (found[1], found[3], bool(found[2])) if found else None


def test_every_page_has_the_five_tabs_with_its_own_marked(demo):
    alice = demo["alice"]
    for path, tab in [("/chat/", "chat"), ("/approvals/", "approvals"), ("/attendance/", "attendance"),
                      ("/announcements/", "announcements"), ("/contacts/", "people"), ("/accounts/settings/", None)]:
        html = page(alice, path)
        tabs = re.findall(r'data-tab="(\w+)"', html)
        assert tabs == ["chat", "approvals", "attendance", "announcements", "people"], path
        current = re.findall(r'class="tabbar-item active" aria-current="page" data-tab="(\w+)"', html)
        assert current == ([tab] if tab else []), path
        assert re.search(r'<body class="[^"]*\bhas-tabbar">', html), path


def test_the_badges_count_my_unread_messages_and_the_requests_waiting_for_me(demo):
    lead, alice, bob = demo["dev_lead"], demo["alice"], demo["bob"]
    html = page(lead, "/attendance/")
    assert badge(html, "chat") == ("0", "0", True) and badge(html, "approvals") == ("0", "0", True)

    say(alice, lead, 2)
    muted = say(bob, lead, 5)
    ConversationMember.objects.filter(conversation_id=muted, user=lead).update(muted=True)
    for requester in (alice, bob):
        approvals.approval_submit(requester=requester, template_code="leave", data=LEAVE, client_id=str(uuid.uuid4()))
    # Each request's card is a message from its requester: Alice's chat has three unread
    # now, Bob's (muted) is left out.
    html = page(lead, "/attendance/")
    assert badge(html, "chat") == ("3", "3", False)
    assert badge(html, "approvals") == ("2", "2", False)
    # The counts are the reader's own: Alice has nothing unread and nothing to decide.
    html = page(alice, "/attendance/")
    assert badge(html, "chat") == ("0", "0", True) and badge(html, "approvals") == ("0", "0", True)


def test_a_badge_beyond_99_reads_99_plus(demo):
    say(demo["alice"], demo["bob"], 100)
    assert badge(page(demo["bob"], "/contacts/"), "chat") == ("100", "99+", False)


def test_nobody_signed_in_gets_no_tab_bar():
    html = Client().get("/accounts/login/").content.decode()
    assert 'data-testid="tabbar"' not in html and "has-tabbar" not in html
