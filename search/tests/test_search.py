"""Message search (docs/search.md): words in Chinese and English, filters, permissions,
bounds, and the index kept current as messages are sent, edited and recalled."""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from messaging.models import Message
from search.indexer import documents_update, indexer
from search.models import MessageDocument

from .conftest import dev, found, search, send

pytestmark = pytest.mark.django_db(transaction=True)


# --- Chinese and English ------------------------------------------------------------------


def test_a_chinese_word_is_found_inside_running_chinese_text(demo, api_for):
    ack = send(api_for(demo["alice"]), "我们下周三开会", conversation=dev())
    page = search(api_for(demo["bob"]), "开会")
    assert [r["id"] for r in page["results"]] == [ack["id"]]
    result = page["results"][0]
    assert result["highlight"] == "我们下周三<mark>开会</mark>"
    assert result["conversation"] == dev() and result["seq"] == ack["seq"] and result["sender"] == demo["alice"].id
    assert result["app"] == "chat" and result["created"] and page["next"] is None
    assert found(api_for(demo["bob"]), "周三") == [ack["id"]]
    assert found(api_for(demo["bob"]), "吃饭") == []


def test_mixed_chinese_and_english(demo, api_for):
    ack = send(api_for(demo["alice"]), "Q3的预算还没批下来", conversation=dev())
    send(api_for(demo["alice"]), "Q4 plans", conversation=dev())
    bob = api_for(demo["bob"])
    assert found(bob, "Q3 预算") == [ack["id"]]
    assert found(bob, "q3预算") == [ack["id"]]
    assert found(bob, "Q3 计划") == []  # every word must match


def test_english_word_forms_and_case(demo, api_for):
    ack = send(api_for(demo["alice"]), "The Meetings moved to Friday", conversation=dev())
    bob = api_for(demo["bob"])
    for q in ("meeting", "MEETINGS", "meetings friday", "Meeting moved"):
        assert found(bob, q) == [ack["id"]], q
    assert search(bob, "meeting")["results"][0]["highlight"] == "The <mark>Meetings</mark> moved to Friday"
    assert found(bob, "meat") == []


def test_markdown_is_searched_by_its_visible_text(demo, api_for):
    ack = send(api_for(demo["alice"]), "**budget** review, `deploy` and [the plan](https://example.com/x)", conversation=dev())
    bob = api_for(demo["bob"])
    assert search(bob, "**")["results"] == []
    assert found(bob, "budget") == [ack["id"]]
    assert found(bob, "plan") == [ack["id"]]
    highlight = search(bob, "budget")["results"][0]["highlight"]
    assert highlight.startswith("<mark>budget</mark> review") and "*" not in highlight and "`" not in highlight
    assert found(bob, "https") == []  # the link's address is not text the reader sees


def test_the_highlight_is_escaped_markup(demo, api_for):
    send(api_for(demo["alice"]), "<script>alert(1)</script> 开会 & more", conversation=dev())
    highlight = search(api_for(demo["bob"]), "开会")["results"][0]["highlight"]
    assert highlight == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>开会</mark> &amp; more"


def test_a_long_message_is_clipped_around_the_match(demo, api_for):
    text = "word " * 100 + "needle " + "word " * 100
    send(api_for(demo["alice"]), text, conversation=dev())
    highlight = search(api_for(demo["bob"]), "needle")["results"][0]["highlight"]
    assert highlight.startswith("…") and highlight.endswith("…") and "<mark>needle</mark>" in highlight
    assert len(highlight) < 200


def test_an_approval_card_is_found_by_its_title_and_reason(demo, api_for):
    from apps_approval import services

    approval, _created = services.approval_submit(
        requester=demo["alice"], template_code="leave", client_id=str(uuid.uuid4()),
        data={"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-03", "reason": "dentist appointment"},
    )  # fmt: skip
    cards = set(Message.objects.filter(app="approval").values_list("pk", flat=True))
    assert cards
    alice = api_for(demo["alice"])
    assert set(found(alice, "leave")) == cards
    assert set(found(alice, "请假")) == cards  # the built-in template's name in Chinese
    assert set(found(alice, "dentist")) == cards
    assert set(found(api_for(demo["dev_lead"]), "dentist")) == cards
    assert found(api_for(demo["bob"]), "dentist") == []


def test_an_announcement_is_found_by_its_title(demo, api_for):
    from apps_announcements import services

    services.announcement_publish(
        author=demo["hr_lead"], title="Holiday schedule 春节放假", body="The office **closes** on Friday.",
        audience={"everyone": True}, client_id=str(uuid.uuid4()),
    )  # fmt: skip
    ids = found(api_for(demo["bob"]), "春节 holiday")
    assert ids and set(Message.objects.filter(pk__in=ids).values_list("app", flat=True)) == {"announcement"}
    assert found(api_for(demo["bob"]), "closes") == ids


# --- permissions --------------------------------------------------------------------------


def test_no_message_of_a_conversation_one_is_not_in(demo, api_for):
    send(api_for(demo["alice"]), "secret roadmap", conversation=dev())
    assert found(api_for(demo["carol"]), "roadmap") == []  # Sales, never in Development
    assert found(api_for(demo["carol"]), "roadmap", **{"in": dev()}) == []
    assert found(api_for(demo["carol"]), f"in:{dev()}") == []


def test_no_message_of_a_group_one_left(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    group = alice.post("/api/v1/conversations/", {"title": "Lunch", "members": [demo["bob"].id]}, format="json").json()
    ack = send(alice, "noodles at noon", conversation=group["id"])
    assert found(bob, "noodles") == [ack["id"]]
    assert bob.post(f"/api/v1/conversations/{group['id']}/leave/").status_code in (200, 204)
    assert found(bob, "noodles") == []
    assert found(alice, "noodles") == [ack["id"]]


def test_a_recalled_message_is_never_found(demo, api_for):
    alice = api_for(demo["alice"])
    ack = send(alice, "wrong password hunter2", conversation=dev())
    assert found(api_for(demo["bob"]), "hunter2") == [ack["id"]]
    indexer.mode = "manual"  # the index has not caught up yet: the search still leaves it out
    assert alice.post(f"/api/v1/messages/{ack['id']}/recall/").status_code in (200, 204)
    assert MessageDocument.objects.filter(message_id=ack["id"]).exists()
    assert found(api_for(demo["bob"]), "hunter2") == []
    indexer.flush()
    assert not MessageDocument.objects.filter(message_id=ack["id"]).exists()


# --- kept current ---------------------------------------------------------------------------


def test_an_edit_is_indexed_again(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    ack = send(alice, "draft agenda", conversation=dev())
    response = alice.patch(f"/api/v1/messages/{ack['id']}/", {"body": {"text": "final agenda 定稿"}}, format="json")
    assert response.status_code == 200, response.content
    assert found(bob, "draft") == []
    assert found(bob, "final") == [ack["id"]] == found(bob, "定稿")


def test_a_batch_of_sends_is_indexed_with_its_one_commit(demo):
    from messaging.send.checks import SendRequest
    from messaging.send.service import message_send_many

    indexer.mode = "manual"
    requests = [
        SendRequest(sender=demo[name], client_id=str(uuid.uuid4()), body={"text": f"batch {n} 批量"}, conversation_id=dev())
        for n, name in enumerate(["alice", "bob", "alice"])
    ]
    ids = {result.message.pk for result in message_send_many(requests)}
    assert len(ids) == 3 and indexer.pending == ids
    assert indexer.flush() == 3
    assert set(MessageDocument.objects.filter(terms__contains="批量").values_list("message_id", flat=True)) == ids


def test_the_indexer_thread_indexes_within_a_second(demo, api_for):
    indexer.mode = "thread"
    ack = send(api_for(demo["alice"]), "background indexing works", conversation=dev())
    deadline = time.monotonic() + 1
    while not MessageDocument.objects.filter(message_id=ack["id"]).exists():
        assert time.monotonic() < deadline, "not indexed within a second"
        time.sleep(0.02)
    assert found(api_for(demo["bob"]), "indexing") == [ack["id"]]


def test_the_thread_hands_its_batches_to_celery(demo, api_for, monkeypatch):
    from imsite.celery import app
    from search import tasks

    ack = send(api_for(demo["alice"]), "handed over", conversation=dev())
    indexer.pending.clear()
    handed = []
    MessageDocument.objects.all().delete()
    app.conf.task_always_eager = False  # as with a broker (conftest's _eager_celery puts it back)
    monkeypatch.setattr(tasks.index_messages, "delay", handed.append)
    assert indexer.hand_over([ack["id"]]) == 0
    assert handed == [[ack["id"]]] and not MessageDocument.objects.filter(message_id=ack["id"]).exists()
    # The task, as a Celery worker runs it.
    assert tasks.index_messages.apply(args=[handed[0]]).get() == 1
    assert found(api_for(demo["bob"]), "handed") == [ack["id"]]


def test_without_a_broker_the_thread_indexes_itself(demo, api_for, monkeypatch):
    from kombu.exceptions import OperationalError

    from imsite.celery import app
    from search import tasks

    ack = send(api_for(demo["alice"]), "no broker today", conversation=dev())
    indexer.pending.clear()

    def refused(_ids):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    MessageDocument.objects.all().delete()
    app.conf.task_always_eager = False
    monkeypatch.setattr(tasks.index_messages, "delay", refused)
    assert indexer.hand_over([ack["id"]]) == 1
    assert found(api_for(demo["bob"]), "broker") == [ack["id"]]
    # Where Celery runs tasks eagerly (the embedded default), the thread indexes itself.
    app.conf.task_always_eager = True
    MessageDocument.objects.all().delete()
    assert indexer.hand_over([ack["id"]]) == 1


def test_the_reindex_command_builds_the_index_and_can_run_again(demo, api_for):
    indexer.mode = "manual"
    alice = api_for(demo["alice"])
    kept = send(alice, "history one", conversation=dev())
    recalled = send(alice, "history two", conversation=dev())
    alice.post(f"/api/v1/messages/{recalled['id']}/recall/")
    indexer.pending.clear()
    assert found(api_for(demo["bob"]), "history") == []
    for _run in range(2):
        out, err = io.StringIO(), io.StringIO()
        call_command("search_reindex", "--batch", "2", stdout=out, stderr=err)
        assert found(api_for(demo["bob"]), "history") == [kept["id"]]
        total = Message.objects.count()
        assert MessageDocument.objects.count() == total - 1
        assert f"Indexed {total} messages: {total - 1} documents written, 1 recalled left out." in out.getvalue()
        assert f"{total}/{total} messages (100%)" in err.getvalue()


def test_the_reindex_command_can_index_only_what_has_no_document(demo, api_for):
    indexer.mode = "manual"
    alice = api_for(demo["alice"])
    indexed = send(alice, "already indexed", conversation=dev())
    documents_update([indexed["id"]])
    MessageDocument.objects.filter(message_id=indexed["id"]).update(terms="stale")
    missing = send(alice, "never indexed", conversation=dev())
    indexer.pending.clear()
    out = io.StringIO()
    call_command("search_reindex", "--missing", stdout=out, stderr=io.StringIO())
    assert found(api_for(demo["bob"]), "never") == [missing["id"]]
    # A document that is there is left as it is (the whole reindex writes it again).
    assert MessageDocument.objects.get(message_id=indexed["id"]).terms == "stale"
    assert "documents written" in out.getvalue()
    out = io.StringIO()
    call_command("search_reindex", "--missing", stdout=out, stderr=io.StringIO())
    assert "Indexed 0 messages" in out.getvalue()


def test_documents_update_removes_what_is_gone(demo, api_for):
    ack = send(api_for(demo["alice"]), "to be deleted", conversation=dev())
    Message.objects.filter(pk=ack["id"]).delete()
    assert documents_update([ack["id"]]) == 0
    assert not MessageDocument.objects.filter(message_id=ack["id"]).exists()


# --- filters ----------------------------------------------------------------------------------


def test_from_in_and_mention_filters(demo, api_for):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    by_alice = send(alice, "status report", conversation=dev())
    by_bob = send(bob, "status report @alice", conversation=dev())
    direct = send(bob, "status report", to=demo["alice"].id)
    assert found(alice, "status") == [direct["id"], by_bob["id"], by_alice["id"]]
    assert found(alice, "status from:bob") == [direct["id"], by_bob["id"]]
    assert found(alice, "status from:@alice") == [by_alice["id"]]
    assert found(alice, "status", **{"from": "bob"}) == [direct["id"], by_bob["id"]]
    assert found(alice, "from:nobody") == []
    assert found(alice, f"status in:{dev()}") == [by_bob["id"], by_alice["id"]]
    assert found(alice, "is:mention") == [by_bob["id"]]
    assert found(alice, "status", **{"is": "mention"}) == [by_bob["id"]]
    assert found(alice, f"from:bob in:{dev()}") == [by_bob["id"]]


def test_has_file_and_has_link(demo, api_for):
    alice = api_for(demo["alice"])
    link = send(alice, "see www.example.com please", conversation=dev())
    file = send(alice, body={"name": "报告 figures.csv", "size": 3, "type": "text/csv", "sha256": "0" * 64, "transport": "p2p"},
                app="file", conversation=dev())  # fmt: skip
    send(alice, "plain words", conversation=dev())
    assert found(alice, "has:link") == [link["id"]]
    assert found(alice, "has:file") == [file["id"]]
    assert found(alice, "报告") == [file["id"]] == found(alice, "figures")
    assert found(alice, has=["file", "link"]) == []
    assert found(alice, "has:file,link") == []


def test_after_and_before_dates(demo, api_for):
    alice = api_for(demo["alice"])
    old = send(alice, "quarterly numbers", conversation=dev())
    new = send(alice, "quarterly numbers again", conversation=dev())
    Message.objects.filter(pk=old["id"]).update(created_at=timezone.now() - dt.timedelta(days=10))
    documents_update([old["id"]])
    today = timezone.localdate()
    assert found(alice, f"quarterly after:{today - dt.timedelta(days=1)}") == [new["id"]]
    assert found(alice, f"quarterly before:{today - dt.timedelta(days=1)}") == [old["id"]]
    assert found(alice, "quarterly", after=str(today - dt.timedelta(days=20)), before=str(today + dt.timedelta(days=1))) == [
        new["id"], old["id"],
    ]  # fmt: skip


# --- sorting and pages --------------------------------------------------------------------------


def test_pages_newest_first_with_a_cursor(demo, api_for):
    alice = api_for(demo["alice"])
    ids = [send(alice, f"standup note {n}", conversation=dev())["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        page = search(alice, "standup", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [r["id"] for r in page["results"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_sort_by_relevance(demo, api_for):
    alice = api_for(demo["alice"])
    best = send(alice, "budget budget budget", conversation=dev())
    send(alice, "the budget and many other words about other things entirely", conversation=dev())
    page = search(alice, "budget", sort="relevance", limit=1)
    assert [r["id"] for r in page["results"]] == [best["id"]] and page["next"]
    rest = search(alice, "budget", sort="relevance", cursor=page["next"])
    assert len(rest["results"]) == 1 and rest["next"] is None


# --- bounds and errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"q": "has:pdf"},
        {"q": "is:unread"},
        {"q": "after:2026-13-45"},
        {"q": "after:yesterday"},
        {"q": "before:2026-01-01 after:2026-02-01"},
        {"q": "in:general"},
        {"q": "from:"},
        {"q": "from:alice from:bob"},
        {"q": "x", "in": "abc"},
        {"q": "x", "has": "pdf"},
        {"q": ""},
        {},
        {"q": "x" * 201},
        {"q": " ".join(["word"] * 11)},
        {"q": "x", "limit": "51"},
        {"q": "x", "limit": "0"},
        {"q": "x", "sort": "oldest"},
        {"q": "x", "cursor": "not-a-cursor"},
    ],
)
def test_bad_queries_are_refused_with_a_code(demo, api_for, params):
    response = api_for(demo["alice"]).get("/api/v1/search/messages/", params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


def test_searches_are_rate_limited_per_person(demo, api_for, settings):
    settings.SEARCH_RATE_BURST, settings.SEARCH_RATE_PER_SECOND = 2, 0.01
    alice = api_for(demo["alice"])
    search(alice, "a")
    search(alice, "b")
    response = alice.get("/api/v1/search/messages/", {"q": "c"})
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert "Retry-After" in response
    search(api_for(demo["bob"]), "a")  # another person's searches are their own


def test_a_search_that_runs_too_long_is_stopped(demo, api_for, settings, monkeypatch):
    send(api_for(demo["alice"]), "slow search", conversation=dev())
    if connection.vendor == "postgresql":
        # One statement that sleeps past the timeout, inside the same bound.
        from search import selectors

        settings.SEARCH_TIMEOUT_MS = 50
        monkeypatch.setattr(selectors, "_rows_fetch", lambda rows: (_sleep_pg(), list(rows))[1])
    else:
        from search import selectors

        monkeypatch.setattr(selectors, "_PROGRESS_STEPS", 1)
        settings.SEARCH_TIMEOUT_MS = 1
        clock = iter([0.0])
        monkeypatch.setattr(selectors, "_clock", lambda: next(clock, 1e9))
    response = api_for(demo["bob"]).get("/api/v1/search/messages/", {"q": "slow"})
    assert response.status_code == 503 and response.json()["code"] == "timeout"


def _sleep_pg():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1)")


def test_the_search_takes_a_bounded_number_of_queries(demo, api_for, django_assert_max_num_queries):
    alice = api_for(demo["alice"])
    for n in range(10):
        send(alice, f"note {n} @bob https://example.com/{n}", conversation=dev())
    bob, q = api_for(demo["bob"]), f"note from:alice in:{dev()} has:link is:mention after:2000-01-01"
    # One statement; on PostgreSQL inside a transaction that sets its timeout (BEGIN, SET
    # LOCAL, the statement, COMMIT).
    most = 4 if connection.vendor == "postgresql" else 1
    with django_assert_max_num_queries(most):
        page = search(bob, q, limit=50)
    assert len(page["results"]) == 10
    cursor = search(bob, "note", sort="relevance", limit=1)["next"]
    with django_assert_max_num_queries(most):
        assert len(search(bob, "note", sort="relevance", cursor=cursor)["results"]) == 9


def test_errors_speak_the_readers_language(demo, api_for):
    response = api_for(demo["alice"]).get("/api/v1/search/messages/", {"q": "has:pdf"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400 and response.json()["detail"] == "has: 后面是 file 或 link。"


def test_filters_alone_page_newest_first_whatever_the_sort(demo, api_for):
    alice = api_for(demo["alice"])
    ids = [send(alice, f"note {n}", conversation=dev())["id"] for n in range(3)]
    page = search(alice, "from:alice", sort="relevance", limit=2)
    assert [r["id"] for r in page["results"]] == ids[:0:-1]
    rest = search(alice, "from:alice", sort="relevance", limit=2, cursor=page["next"])
    assert [r["id"] for r in rest["results"]] == ids[:1]


def test_a_body_its_app_cannot_read_is_indexed_without_text(demo, api_for, monkeypatch):
    from messaging.handlers import ChatHandler

    def broken(self, body):
        raise ValueError("unreadable")

    monkeypatch.setattr(ChatHandler, "search_text", broken)
    ack = send(api_for(demo["alice"]), "anything", conversation=dev())
    assert MessageDocument.objects.get(message_id=ack["id"]).text == ""
    assert found(api_for(demo["bob"]), "from:alice") == [ack["id"]]


def test_unusable_limits_stop_the_site(settings):
    from search.checks import search_limits_check

    assert search_limits_check(None) == []
    settings.SEARCH_RATE_BURST, settings.SEARCH_RATE_PER_SECOND, settings.SEARCH_TIMEOUT_MS = 0, 0, 0
    assert [error.id for error in search_limits_check(None)] == ["search.E001", "search.E002", "search.E003"]
