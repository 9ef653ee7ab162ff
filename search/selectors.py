"""Searching the messages a person may read."""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, Exists, FloatField, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError
from messaging.models import ConversationMember, Message, MessageMention

from .models import MessageDocument
from .text import highlight, query_words

MAX_QUERY_CHARS = 200
#: Words a query may hold besides its filters, and words they may be cut into.
MAX_QUERY_WORDS = 10
MAX_QUERY_TERMS = 20
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
SORTS = ("newest", "relevance")
FILTERS = ("from", "in", "after", "before", "has", "is")
HAS = ("file", "link")
IS = ("mention",)
# ``from:alice``; a Chinese keyboard's full-width colon is taken too.
_FILTER = re.compile(r"(?P<key>[a-z]+)[:：](?P<value>.*)", re.IGNORECASE)


@dataclass
class Query:
    words: list[str] = field(default_factory=list)
    sender: str | None = None
    conversation: int | None = None
    after: dt.date | None = None
    before: dt.date | None = None
    has: set[str] = field(default_factory=set)
    mention: bool = False
    # Whether the person typed something to look for (which may hold no words: "**").
    text: bool = False

    @property
    def filtered(self) -> bool:
        return bool(self.sender or self.conversation or self.after or self.before or self.has or self.mention)


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid")


def _set_once(query: Query, name: str, value: Any, key: str) -> None:
    if getattr(query, name) not in (None, value):
        raise _invalid(_("%(filter)s: can be given only once.") % {"filter": f"{key}:"})
    setattr(query, name, value)


def _date(value: str, key: str) -> dt.date:
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise _invalid(_("%(filter)s: a date is written YYYY-MM-DD.") % {"filter": f"{key}:"})


def _filter_apply(query: Query, key: str, value: str) -> None:
    key, value = key.lower(), value.strip()
    if not value:
        raise _invalid(_("%(filter)s: needs a value.") % {"filter": f"{key}:"})
    if key == "from":
        _set_once(query, "sender", value.removeprefix("@"), key)
    elif key == "in":
        if not re.fullmatch(r"[0-9]{1,18}", value):
            raise _invalid(_("in: takes a conversation's number."))
        _set_once(query, "conversation", int(value), key)
    elif key in ("after", "before"):
        _set_once(query, key, _date(value, key), key)
    elif key == "has":
        for item in value.lower().split(","):
            if item not in HAS:
                raise _invalid(_("has: takes file or link."))
            query.has.add(item)
    elif key == "is":
        for item in value.lower().split(","):
            if item not in IS:
                raise _invalid(_("is: takes mention."))
            query.mention = True


def query_parse(q: Any, params: Mapping[str, list[str]] | None = None) -> Query:
    """A query from the words of ``q`` (``from:alice 开会``) and the same filters given as
    parameters (``params``: each name with its values), or an ``invalid`` error."""
    if q is None:
        q = ""
    if not isinstance(q, str):
        raise _invalid(_("q must be text."))
    if len(q) > MAX_QUERY_CHARS:
        raise _invalid(_("A search can have at most %(n)d characters.") % {"n": MAX_QUERY_CHARS})
    query = Query()
    text = []
    for part in q.split():
        match = _FILTER.fullmatch(part)
        if match and match["key"].lower() in FILTERS:
            _filter_apply(query, match["key"], match["value"])
        else:
            text.append(part)
    for key, values in (params or {}).items():
        if key in FILTERS:
            for value in values:
                _filter_apply(query, key, value)
    if len(text) > MAX_QUERY_WORDS:
        raise _invalid(_("A search can have at most %(n)d words.") % {"n": MAX_QUERY_WORDS})
    query.text = bool(text)
    query.words = list(dict.fromkeys(word for part in text for word in query_words(part)))
    if len(query.words) > MAX_QUERY_TERMS:
        raise _invalid(_("A search can have at most %(n)d words.") % {"n": MAX_QUERY_WORDS})
    if not query.text and not query.filtered:
        raise _invalid(_("Say what to search for."))
    if query.after and query.before and query.after >= query.before:
        raise _invalid(_("after: must come before before:."))
    return query


# --- the cursor --------------------------------------------------------------------------


def _cursor_encode(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str, sort: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort == "newest":
            ok = isinstance(value.get("c"), str) and isinstance(value.get("i"), int)
            value["c"] = dt.datetime.fromisoformat(value["c"])
        else:
            ok = isinstance(value.get("o"), int) and 0 <= value["o"] <= 10_000
    except (ValueError, TypeError, AttributeError, KeyError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        raise _invalid(_("That cursor is not one of this search's."))
    return value


# --- the search --------------------------------------------------------------------------


def _midnight(date: dt.date) -> dt.datetime:
    """The start of that day in the company's time zone."""
    return timezone.make_aware(dt.datetime.combine(date, dt.time()), timezone.get_default_timezone())


def _fts5_match(words: list[str]) -> str:
    # Each word a quoted string, all of them needed; FTS5 doubles a quote inside.
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _text_match(documents, words: list[str], *, ranked: bool):
    """SQLite: the documents whose FTS5 entry has every word (PostgreSQL: _by_conversation)."""
    table = connection.ops.quote_name(MessageDocument._meta.db_table)
    match = _fts5_match(words)
    documents = documents.filter(
        RawSQL(
            f"{table}.message_id IN (SELECT rowid FROM search_messagefts WHERE search_messagefts MATCH %s)",
            [match],
            output_field=BooleanField(),
        )
    )
    if ranked:
        # bm25() is lower for a better match.
        documents = documents.annotate(
            rank=RawSQL(
                "(SELECT -bm25(search_messagefts) FROM search_messagefts"
                f" WHERE search_messagefts MATCH %s AND rowid = {table}.message_id)",
                [match],
                output_field=FloatField(),
            )
        )
    return documents


# SQLite's virtual machine instructions between looks at the clock.
_PROGRESS_STEPS = 10_000
_clock = time.monotonic


@contextlib.contextmanager
def _time_bound():
    """At most SEARCH_TIMEOUT_MS for the statements inside: PostgreSQL's statement
    timeout, SQLite's progress handler; beyond it, ``503 timeout``."""
    milliseconds = max(1, int(settings.SEARCH_TIMEOUT_MS))
    timed_out = ApplicationError(
        _("The search took too long; add words or filters to narrow it."), code="timeout", status=503
    )
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {milliseconds}")
            try:
                yield
            except OperationalError as error:
                if getattr(error.__cause__, "sqlstate", None) == "57014":  # query_canceled
                    raise timed_out from error
                raise
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        deadline = _clock() + milliseconds / 1000
        raw = connection.connection
        raw.set_progress_handler(lambda: int(_clock() > deadline), _PROGRESS_STEPS)
        try:
            yield
        except OperationalError as error:
            if "interrupted" in str(error):
                raise timed_out from error
            raise
        finally:
            raw.set_progress_handler(None, 0)
        return
    yield


def _by_conversation(
    user: User, query: Query, *, ranked: bool, position: dict | None, offset: int, limit: int
) -> tuple[str, list[Any]]:
    """PostgreSQL, with words (the statement and its parameters): the first ``offset + limit`` matches of each of my
    conversations in the page's order (newest first, or by relevance), a LATERAL query per
    membership, then the page of those.

    Scanning every document newest first and keeping mine read hundreds of thousands of
    rows for a common word at a million messages. Per conversation, the planner picks for
    each query what its words' statistics call for: the conversation's documents newest
    first until enough match (a common word), or the words' GIN entries within the
    conversation (a rare one)."""
    table = connection.ops.quote_name
    documents, messages = MessageDocument._meta.db_table, Message._meta.db_table
    members, mentions = ConversationMember._meta.db_table, MessageMention._meta.db_table
    terms = " ".join(query.words)
    where, params = ["d.vector @@ plainto_tsquery('english', %s)", "m.recalled_at IS NULL"], [terms]
    if query.sender is not None:
        where.append(f"d.sender_id IN (SELECT id FROM {table(User._meta.db_table)} WHERE username = %s)")
        params.append(query.sender)
    if query.after is not None:
        where.append("d.created_at >= %s")
        params.append(_midnight(query.after))
    if query.before is not None:
        where.append("d.created_at < %s")
        params.append(_midnight(query.before))
    if "file" in query.has:
        where.append("d.has_file")
    if "link" in query.has:
        where.append("d.has_link")
    if query.mention:
        where.append(f"EXISTS (SELECT 1 FROM {table(mentions)} x WHERE x.message_id = d.message_id AND x.user_id = %s)")
        params.append(user.pk)
    if position:
        where.append("(d.created_at, d.message_id) < (%s, %s)")
        params += [position["c"], position["i"]]
    outer, outer_params = ["cm.user_id = %s"], [user.pk]
    if query.conversation is not None:
        outer.append("cm.conversation_id = %s")
        outer_params.append(query.conversation)
    rank = "ts_rank(d.vector, plainto_tsquery('english', %s))" if ranked else "0"
    inner_order, outer_order = (
        ("rank DESC, d.created_at DESC, d.message_id DESC", "found.rank DESC, found.created_at DESC, found.message_id DESC")
        if ranked
        else ("d.created_at DESC, d.message_id DESC", "found.created_at DESC, found.message_id DESC")
    )
    sql = f"""
        SELECT found.* FROM {table(members)} cm
        CROSS JOIN LATERAL (
            SELECT d.message_id, d.conversation_id, d.sender_id, d.created_at, d.text,
                   m.seq AS message__seq, m.app AS message__app, {rank} AS rank
            FROM {table(documents)} d JOIN {table(messages)} m ON m.id = d.message_id
            WHERE d.conversation_id = cm.conversation_id AND {" AND ".join(where)}
            ORDER BY {inner_order}
            LIMIT %s
        ) found
        WHERE {" AND ".join(outer)}
        ORDER BY {outer_order}
        LIMIT %s OFFSET %s
    """
    rank_params = [terms] if ranked else []
    return sql, [*rank_params, *params, offset + limit, *outer_params, limit, offset]


def _rows_fetch(rows) -> list[dict[str, Any]]:
    """The rows of a query set of ``values()``, or of an SQL statement and its parameters."""
    if isinstance(rows, tuple):
        sql, params = rows
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            columns = [column.name for column in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]
    return list(rows)


def _documents_page(user: User, query: Query, *, ranked: bool, position: dict | None, offset: int, limit: int):
    """The ORM's query of a page (``values()``): SQLite, and filters without words on
    PostgreSQL, where the indexes on sender and date serve them."""
    documents = MessageDocument.objects.filter(
        conversation_id__in=ConversationMember.objects.filter(user=user).values("conversation_id"),
        message__recalled_at__isnull=True,
    )
    if query.sender is not None:
        documents = documents.filter(sender_id__in=User.objects.filter(username=query.sender).values("pk"))
    if query.conversation is not None:
        documents = documents.filter(conversation_id=query.conversation)
    if query.after is not None:
        documents = documents.filter(created_at__gte=_midnight(query.after))
    if query.before is not None:
        documents = documents.filter(created_at__lt=_midnight(query.before))
    if "file" in query.has:
        documents = documents.filter(has_file=True)
    if "link" in query.has:
        documents = documents.filter(has_link=True)
    if query.mention:
        documents = documents.filter(
            Exists(MessageMention.objects.filter(message_id=OuterRef("message_id"), user=user))
        )
    if query.words:
        documents = _text_match(documents, query.words, ranked=ranked)
    if ranked:
        documents = documents.order_by("-rank", "-created_at", "-message_id")
    else:
        documents = documents.order_by("-created_at", "-message_id")
        if position:
            documents = documents.filter(
                Q(created_at__lt=position["c"]) | Q(created_at=position["c"], message_id__lt=position["i"])
            )
    return documents.values(
        "message_id", "conversation_id", "sender_id", "created_at", "text", "message__seq", "message__app"
    )[offset : offset + limit]


def message_search(
    *, user: User, query: Query, sort: str = "newest", cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[dict[str, Any]], str | None]:
    """The messages ``user`` may read that match ``query`` (a page of them, and the cursor
    of the next page or None): only of conversations they are a member of now, never a
    recalled one."""
    if sort not in SORTS:
        raise _invalid(_("sort is newest or relevance."))
    if query.text and not query.words:
        return [], None  # only marks and punctuation: nothing is indexed by them
    # Relevance needs words to rank by; filters alone are listed newest first.
    ranked = sort == "relevance" and bool(query.words)
    position = _cursor_decode(cursor, "relevance" if ranked else "newest") if cursor else None
    offset = position["o"] if ranked and position else 0
    if ranked:
        position = None
    if connection.vendor == "postgresql" and query.words:
        rows = _by_conversation(user, query, ranked=ranked, position=position, offset=offset, limit=limit + 1)
    else:
        rows = _documents_page(user, query, ranked=ranked, position=position, offset=offset, limit=limit + 1)
    with _time_bound():
        rows = _rows_fetch(rows)
    more, rows = len(rows) > limit, rows[:limit]
    results = [
        {
            "conversation": row["conversation_id"],
            "id": row["message_id"],
            "seq": row["message__seq"],
            "sender": row["sender_id"],
            "created": row["created_at"],
            "app": row["message__app"],
            "highlight": highlight(row["text"], query.words),
        }
        for row in rows
    ]
    next_cursor = None
    if more and rows:
        if ranked:
            next_cursor = _cursor_encode({"o": offset + limit})
        else:
            last = rows[-1]
            next_cursor = _cursor_encode({"c": last["created_at"].isoformat(), "i": last["message_id"]})
    return results, next_cursor
