"""Storing a checked batch with one commit, and publishing it after.

On PostgreSQL the writes are one statement (:func:`_messages_insert_postgresql`); elsewhere
the ORM's statements in one transaction. Either way each message takes the next gap-free
seq of its conversation, and a repeat of a stored ``client_id`` is answered with it.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
from typing import Any

from django.db import DataError, connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from core import bus
from core.errors import ApplicationError

from .. import metrics
from ..frames import message_frame
from ..models import Conversation, ConversationMember, Message, MessageMention
from ..realtime.publish import event, publish_many
from ..registry import AppHandler
from .checks import Send, SendResult

def messages_stored(sends: list[Send]) -> dict[tuple[int, str], Message]:
    """The messages already stored under these sends' (sender, client_id)."""
    keys = list({(s.request.sender.pk, s.client_id) for s in sends})
    # The pairs themselves, each one probe of the (sender, client_id) index: with two IN
    # lists the planner reads every message of the senders and filters them.
    quote = connection.ops.quote_name
    message = quote(Message._meta.db_table)
    table, params = _rows_table(keys, ("bigint", "text"))
    pairs = RawSQL(
        f"({message}.{quote('sender_id')}, {message}.{quote('client_id')}) IN (SELECT column1, column2 FROM {table})",
        params,
        output_field=BooleanField(),
    )
    return {(m.sender_id, m.client_id): m for m in Message.objects.filter(pairs)}


def messages_store(sends: list[Send]) -> None:
    """Store the messages with one commit, and publish each after it.

    Each message takes the next seq of its conversation, in the order of the batch: seqs
    stay gap-free, and a failed batch gives its numbers back. The conversations' rows are
    locked in id order, so that two batches never wait on each other in a circle. A
    send whose (sender, client_id) is stored already gets that message instead
    (``created`` False); one whose conversation is gone by now is left without one.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement, which commits on its own where no transaction is open (a
        # savepoint inside one, so that a failure leaves the caller's transaction usable).
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            _messages_insert_postgresql(sends, now)
            _messages_publish_on_commit([send for send in sends if send.message is not None and send.created])
        return
    with transaction.atomic():
        stored = messages_stored(sends)
        fresh = []
        for send in sends:
            send.message = stored.get((send.request.sender.pk, send.client_id))
            send.created = send.message is None
            if send.created:
                fresh.append(send)
        ids = sorted({send.conversation.pk for send in fresh})
        last_seq = dict(
            Conversation.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "last_seq")
        )
        fresh = [send for send in fresh if send.conversation.pk in last_seq]
        if not fresh:
            return
        read: dict[tuple[int, int], int] = {}
        for send in fresh:
            conversation_id = send.conversation.pk
            last_seq[conversation_id] += 1
            send.message = _message_for(send, seq=last_seq[conversation_id], now=now)
            read[(conversation_id, send.request.sender.pk)] = last_seq[conversation_id]
        Message.objects.bulk_create([send.message for send in fresh])
        MessageMention.objects.bulk_create(
            [
                MessageMention(message=send.message, user_id=user_id, conversation_id=send.message.conversation_id, seq=send.message.seq)
                for send in fresh
                for user_id in send.mentions
            ]
        )
        _rows_update(
            Conversation, {"last_seq": "column2"}, "id = v.column1", [(pk, seq) for pk, seq in last_seq.items()],
            also={"last_message_at": now},
        )
        # A sender has read their own message.
        _rows_update(
            ConversationMember,
            {"last_read_seq": "column3"},
            "conversation_id = v.column1 AND t.user_id = v.column2",
            [(c, u, seq) for (c, u), seq in read.items()],
        )
        _messages_publish_on_commit(fresh)


def _message_for(send: Send, *, seq: int, now) -> Message:
    return Message(
        conversation_id=send.conversation.pk,
        seq=seq,
        sender=send.request.sender,
        app=send.app,
        body=send.body,
        client_id=send.client_id,
        created_at=now,
        mentions=send.mentions,
        reply_to=send.reply,
        forwarded=send.forwarded,
    )


_MESSAGE_COLUMNS = [
    "id", "seq", "sender_id", "client_id", "conversation_id", "app", "body", "created_at", "edited_at", "recalled_at",
    "mentions", "reply_to_id", "forwarded",
]  # fmt: skip


def _message_from_row(row: tuple) -> Message:
    """A Message from a row of :data:`_MESSAGE_COLUMNS`, as the ORM would load it."""
    values = dict(zip(_MESSAGE_COLUMNS, row))
    for name in ("body", "mentions"):
        values[name] = Message._meta.get_field(name).from_db_value(values[name], None, connection)
    message = Message(**values)
    message._state.adding, message._state.db = False, connection.alias
    return message


def _messages_insert_postgresql(sends: list[Send], now) -> None:
    """:func:`messages_store`'s writes as one statement on PostgreSQL, one round trip
    with no BEGIN or COMMIT of its own: leave out the sends stored already, lock the
    conversations in id order, move each one's ``last_seq`` on by its number of new
    messages, insert those numbered from where it stood, and move each sender's read
    position to their last message. It answers with the new messages and the stored
    ones, whole (it does not see itself insert, so a repeat is never both)."""
    quote = connection.ops.quote_name
    conversation_table = quote(Conversation._meta.db_table)
    message_table = quote(Message._meta.db_table)
    member_table = quote(ConversationMember._meta.db_table)
    mention_table = quote(MessageMention._meta.db_table)
    encoder = Message._meta.get_field("body").encoder
    columns = ", ".join(_MESSAGE_COLUMNS)
    rows = [
        (place, send.conversation.pk, send.request.sender.pk, send.app,
         json.dumps(send.body, cls=encoder), send.client_id, json.dumps(send.mentions),
         send.reply.pk if send.reply is not None else None, send.forwarded)
        for place, send in enumerate(sends)
    ]  # fmt: skip
    batch, params = _rows_table(
        rows, ("integer", "bigint", "bigint", "text", "text", "text", "text", "bigint", "boolean")
    )
    sql = f"""
        WITH batch AS (SELECT * FROM {batch}),
        fresh AS (
            SELECT b.*, row_number() OVER (PARTITION BY b.column2 ORDER BY b.column1) AS place
            FROM batch AS b
            WHERE NOT EXISTS (SELECT FROM {message_table} AS m WHERE m.sender_id = b.column3 AND m.client_id = b.column6)
        ),
        locked AS MATERIALIZED (
            SELECT id FROM {conversation_table} WHERE id IN (SELECT column2 FROM fresh) ORDER BY id FOR UPDATE
        ),
        bumped AS (
            UPDATE {conversation_table} AS c
            SET last_seq = c.last_seq + n.count, last_message_at = %s
            FROM (SELECT column2 AS id, count(*) AS count FROM fresh GROUP BY column2) AS n, locked
            WHERE c.id = n.id AND locked.id = n.id
            RETURNING c.id, c.last_seq - n.count AS base
        ),
        numbered AS (
            SELECT f.*, bumped.base + f.place AS seq FROM fresh AS f JOIN bumped ON bumped.id = f.column2
        ),
        stored AS (
            INSERT INTO {message_table}
                (conversation_id, seq, sender_id, app, body, client_id, created_at, edited_at, recalled_at, mentions,
                 reply_to_id, forwarded)
            SELECT column2, seq, column3, column4, column5::jsonb, column6, %s, NULL, NULL, column7::jsonb,
                column8, column9
            FROM numbered
            RETURNING {columns}
        ),
        mentioned AS (
            INSERT INTO {mention_table} (message_id, user_id, conversation_id, seq)
            SELECT s.id, u.value::bigint, s.conversation_id, s.seq
            FROM stored AS s CROSS JOIN LATERAL jsonb_array_elements_text(s.mentions) AS u(value)
        ),
        read AS (
            UPDATE {member_table} AS m SET last_read_seq = r.seq
            FROM (SELECT column2, column3, max(seq) AS seq FROM numbered GROUP BY column2, column3) AS r
            WHERE m.conversation_id = r.column2 AND m.user_id = r.column3
        )
        SELECT true, {columns} FROM stored
        UNION ALL
        SELECT false, {", ".join(f"m.{name}" for name in _MESSAGE_COLUMNS)}
        FROM {message_table} AS m JOIN batch AS b ON m.sender_id = b.column3 AND m.client_id = b.column6
    """
    # Whole rows come back, so that nothing is left to read once the statement (which
    # may have committed already) has stored the batch.
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, now])
        returned = {(row[3], row[4]): row for row in cursor.fetchall()}
    for send in sends:
        row = returned.get((send.request.sender.pk, send.client_id))
        if row is not None:  # else its conversation is gone
            send.created, send.message = row[0], _message_from_row(row[1:])
            if send.reply is not None and send.message.reply_to_id == send.reply.pk:
                send.message.reply_to = send.reply  # for its frame


def _rows_update(model, columns: dict[str, str], match: str, rows: list[tuple[int, ...]], also=None) -> None:
    """One UPDATE of many rows, each with its own values: ``UPDATE … FROM`` a table of
    the rows (:func:`_rows_table`). (The ORM's ``Case(When(…))`` form costs more to build
    than the statement costs to run.) ``rows`` are tuples of integers, named
    ``v.column1``… in ``columns`` and ``match``; ``also`` sets the same value on each row."""
    quote = connection.ops.quote_name
    sets = [f"{quote(name)} = v.{value}" for name, value in columns.items()]
    params: list[Any] = []
    for name, value in (also or {}).items():
        field = model._meta.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    table, table_params = _rows_table(rows, ("bigint",) * len(rows[0]))
    sql = f"UPDATE {quote(model._meta.db_table)} AS t SET {', '.join(sets)} FROM {table} WHERE t.{match}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *table_params])


def _rows_table(rows: list[tuple], types: tuple[str, ...]) -> tuple[str, list[Any]]:
    """These rows as a table ``v`` with columns ``column1``…, and its parameters. On
    PostgreSQL, ``unnest`` of one array per column: the statement's text is the same
    whatever the number of rows, so psycopg reuses its parsing of it instead of parsing
    a longer one for every batch. Elsewhere ``(VALUES …)``, which SQLite takes too."""
    names = ", ".join(f"column{i + 1}" for i in range(len(types)))
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        return f"unnest({arrays}) AS v({names})", [list(column) for column in zip(*rows)]
    row = "(" + ", ".join(f"CAST(%s AS {kind})" for kind in types) + ")"
    return f"(VALUES {', '.join([row] * len(rows))}) AS v", [value for values in rows for value in values]


def _messages_publish_on_commit(sends: list[Send]) -> None:
    """After commit: the batch's events to the event loop in one hand-over, then each
    app's ``on_stored`` (one failing does not stop the others), and the domain event
    ``message.stored`` with the new messages' ids (search indexes them)."""
    events = [
        (send.audience, event("message.new", message_frame(send.message), origin=send.request.origin, id=send.message.pk))
        for send in sends
    ]
    stored = collections.Counter(send.app for send in sends)

    def published() -> None:
        publish_many(events)
        for app, count in stored.items():
            metrics.MESSAGES_STORED.labels(app=app).inc(count)

    transaction.on_commit(published)
    for send in sends:
        if type(send.handler).on_stored is not AppHandler.on_stored:
            transaction.on_commit(functools.partial(send.handler.on_stored, send.message), robust=True)
    if sends:
        bus.publish_on_commit("message.stored", {"ids": [send.message.pk for send in sends]})


def message_store_alone(send: Send) -> Exception | None:
    try:
        messages_store([send])
    except Exception as error:
        return error
    return None


def send_failure(error: Exception) -> Exception:
    """What answers a send that failed on its own: a value the database refuses is the
    client's error (``invalid``); anything else is a fault of ours, kept as it is."""
    if isinstance(error, DataError):
        return ApplicationError(_("The message could not be stored."), code="invalid")
    return error


def stored_outcome(send: Send) -> SendResult | ApplicationError:
    if send.message is None:  # its conversation was deleted while the batch was on its way
        return ApplicationError(_("No such conversation."), code="not_found")
    return SendResult(send.message, created=send.created)
