"""manage.py bench_messages: the generated history the search benchmark searches."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Count, Exists, Max, Min, OuterRef

from accounts.models import User
from messaging.models import Conversation, ConversationMember, Message
from search.management.commands.bench_messages import CLIENT_PREFIX, EN_RARE, ZH_COMMON, ZH_RARE

pytestmark = pytest.mark.django_db

USERS = 8
SHAPE = {"users": USERS, "groups_per_user": 2, "group_size": 4, "directs_per_user": 3}


def generate(count, tmp_path, **shape):
    out = io.StringIO()
    call_command("bench_users", count=USERS, stdout=io.StringIO())
    call_command("bench_messages", count=count, out=tmp_path / "corpus.json", stdout=out, stderr=io.StringIO(),
                 **{**SHAPE, **shape})  # fmt: skip
    return out.getvalue(), json.loads((tmp_path / "corpus.json").read_text())


def test_a_history_in_groups_and_direct_conversations_with_gapless_seqs(tmp_path):
    out, corpus = generate(600, tmp_path)
    assert "Generated 600 messages" in out
    messages = Message.objects.filter(client_id__startswith=CLIENT_PREFIX)
    assert messages.count() == 600
    for row in messages.values("conversation").annotate(n=Count("id"), low=Min("seq"), high=Max("seq")):
        conversation = Conversation.objects.get(pk=row["conversation"])
        assert (row["low"], row["high"]) == (1, row["n"]) and conversation.last_seq == row["n"]
        # Everyone has read it all: the history adds no unread counts.
        assert set(conversation.memberships.values_list("last_read_seq", flat=True)) == {row["n"]}
    # Each sender is a member of the conversation the message is in.
    membership = ConversationMember.objects.filter(conversation=OuterRef("conversation"), user=OuterRef("sender"))
    assert not messages.exclude(Exists(membership)).exists()
    # Each user is in their groups and direct conversations, as the file says.
    assert set(corpus["conversations"]) == {f"bench{n:04d}" for n in range(1, USERS + 1)}
    for username, conversations in corpus["conversations"].items():
        assert len(conversations) >= SHAPE["groups_per_user"]
        assert set(conversations) == set(
            ConversationMember.objects.filter(user__username=username).values_list("conversation_id", flat=True)
        )
    assert set(corpus["words"]["rare"]) == set(ZH_RARE + EN_RARE) and ZH_COMMON[0] in corpus["words"]["common"]
    bodies = list(messages.values_list("body", flat=True)[:50])
    assert all(body["text"] and body["html"].startswith("<p>") for body in bodies)


def test_a_second_run_keeps_the_history_and_another_size_replaces_it(tmp_path):
    generate(300, tmp_path)
    first = set(Message.objects.filter(client_id__startswith=CLIENT_PREFIX).values_list("pk", flat=True))
    out, _corpus = generate(300, tmp_path)
    assert "already there: 300 messages" in out
    assert set(Message.objects.filter(client_id__startswith=CLIENT_PREFIX).values_list("pk", flat=True)) == first
    out, _corpus = generate(200, tmp_path)
    assert "Removing the earlier search history (300 messages)" in out
    assert Message.objects.filter(client_id__startswith=CLIENT_PREFIX).count() == 200
    assert Conversation.objects.filter(title__startswith="Search corpus ").count() == (
        USERS * SHAPE["groups_per_user"] // SHAPE["group_size"]
    )


def test_the_generated_history_is_searchable(tmp_path, api_for):
    _out, corpus = generate(300, tmp_path)
    out = io.StringIO()
    call_command("search_reindex", "--missing", stdout=out, stderr=io.StringIO())
    assert "Indexed 300 messages: 300 documents written" in out.getvalue()
    response = api_for(User.objects.get(username="bench0001")).get("/api/v1/search/messages/", {"q": ZH_COMMON[0]})
    results = response.json()["results"]
    assert results and {r["conversation"] for r in results} <= set(corpus["conversations"]["bench0001"])
