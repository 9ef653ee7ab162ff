"""Writes for messaging: conversations, sending, reading, editing; each publishes on commit."""

from __future__ import annotations

import collections
import contextlib
import functools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import session_tag
from contacts import policy
from contacts.models import Department, Membership
from core.errors import ApplicationError, is_number, json_strings, require_client_id, require_number

from . import metrics
from .frames import message_frame, message_update_frame
from .models import Connection, Conversation, ConversationMember, Message
from .realtime import event, publish_many, publish_on_commit
from .registry import AppHandler, app_handlers, conversation_permitted_by_app
from .send_cache import send_cache
from .selectors import conversation_access, conversation_member_ids, last_message_id_for_user

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool


def check_body(body: Any) -> dict[str, Any]:
    """The transport's only look at a body: an object of storable text, not too large."""
    if not isinstance(body, dict):
        raise ApplicationError(_("body must be a JSON object."), code="invalid")
    try:
        size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    except UnicodeEncodeError:
        # A lone surrogate: refused here, alone, before it can fail a batch's write.
        raise ApplicationError(_("The message contains text that is not valid Unicode."), code="invalid") from None
    if any("\x00" in text for text in json_strings(body)):
        # PostgreSQL cannot store NUL characters in JSON.
        raise ApplicationError(_("The message contains a NUL character."), code="invalid")
    if size > MAX_BODY_BYTES:
        raise ApplicationError(
            _("The message is too large (%(size)d bytes; at most %(max)d).")
            % {"size": size, "max": MAX_BODY_BYTES},
            code="too_large",
        )
    return body


def _user_get_active(user_id: Any) -> User:
    require_number(user_id, "user")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ApplicationError(_("No such person."), code="not_found")
    return user


# --- conversations --------------------------------------------------------------------


def conversation_get_or_create_direct(*, user: User, other_id: Any, app: str = "chat") -> Conversation:
    """The direct conversation of two people who may talk, created on first use."""
    return _conversation_for_send(sender=user, conversation_id=None, to_user_id=other_id, app=app)


def _direct_conversation(a_id: int, b_id: int) -> Conversation:
    key = Conversation.direct_key_for(a_id, b_id)
    conversation = Conversation.objects.filter(direct_key=key).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DIRECT, direct_key=key, created_by_id=a_id
            )
            ConversationMember.objects.bulk_create(
                [ConversationMember(conversation=conversation, user_id=uid) for uid in {a_id, b_id}]
            )
            return conversation
    except IntegrityError:  # created concurrently by the other side
        return Conversation.objects.get(direct_key=key)


@transaction.atomic
def conversation_create_group(*, creator: User, title: str, member_ids: list[Any]) -> Conversation:
    title = (title or "").strip()
    if not title:
        raise ApplicationError(_("A group needs a title."), code="invalid")
    if len(title) > 200:
        raise ApplicationError(_("A group title can have at most 200 characters."), code="invalid")
    if not isinstance(member_ids, list) or not all(is_number(m) for m in member_ids):
        raise ApplicationError(_("members must be a list of user ids."), code="invalid")
    wanted = set(member_ids) - {creator.pk}
    if not wanted:
        raise ApplicationError(_("A group needs at least one other member."), code="invalid")
    outsiders = wanted - policy.contact_ids(creator)
    if outsiders:
        raise ApplicationError(
            _("Groups can only be made with your contacts."), code="not_permitted", extra={"users": sorted(outsiders)}
        )
    conversation = Conversation.objects.create(kind=Conversation.Kind.GROUP, title=title, created_by=creator)
    ConversationMember.objects.bulk_create(
        [ConversationMember(conversation=conversation, user_id=uid) for uid in wanted | {creator.pk}]
    )
    return conversation


def _department_people(department: Department) -> set[int]:
    people = set(
        Membership.objects.filter(department=department, user__is_active=True).values_list("user_id", flat=True)
    )
    if department.manager_id:
        people.add(department.manager_id)
    return people


@transaction.atomic
def department_conversation_sync(*, department: Department) -> Conversation:
    """Keep a department's conversation and its members in step with the department."""
    conversation, _created = Conversation.objects.get_or_create(
        department=department,
        defaults={"kind": Conversation.Kind.DEPARTMENT, "title": department.name},
    )
    if conversation.title != department.name:
        conversation.title = department.name
        conversation.save(update_fields=["title"])
    wanted = _department_people(department)
    current = set(conversation.memberships.values_list("user_id", flat=True))
    if wanted - current:
        ConversationMember.objects.bulk_create(
            [ConversationMember(conversation=conversation, user_id=uid, last_read_seq=conversation.last_seq)
             for uid in wanted - current],
            ignore_conflicts=True,
        )
    if current - wanted:
        conversation.memberships.filter(user_id__in=current - wanted).delete()
    return conversation


def department_conversations_sync(*, department_ids: set[int] | None = None) -> int:
    departments = Department.objects.all()
    if department_ids:
        departments = departments.filter(pk__in=department_ids)
    count = 0
    for department in departments:
        department_conversation_sync(department=department)
        count += 1
    return count


# --- messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRequest:
    """One message to send: what a ``send`` frame, a REST call or an app's service asks."""

    sender: User
    client_id: Any
    body: Any
    app: Any = "chat"
    conversation_id: Any = None
    to_user_id: Any = None
    origin: str | None = None
    #: False for an app's own services, which may send messages that clients may not
    #: (approval cards, say).
    from_client: bool = True


@dataclass
class _Send:
    """A request on its way through :func:`message_send_many`."""

    index: int
    request: SendRequest
    client_id: str
    body: dict[str, Any]
    handler: Any
    conversation: Conversation | None = None
    audience: list[int] = field(default_factory=list)
    #: Once stored: the message, and whether this send stored it (or found it stored).
    message: Message | None = None
    created: bool = True


@dataclass
class _Target:
    """Where one sender wants to write: a conversation by id, or a person (``to``)."""

    sender: User
    conversation_id: Any
    to_user_id: Any
    app: str
    conversation: Conversation | None = None
    audience: list[int] = field(default_factory=list)
    other: User | None = None
    error: ApplicationError | None = None


def message_send(
    *,
    sender: User,
    client_id: Any,
    body: Any,
    app: Any = "chat",
    conversation_id: Any = None,
    to_user_id: Any = None,
    origin: str | None = None,
    from_client: bool = True,
) -> SendResult:
    """Store a message and deliver it to every connection of every member.

    Idempotent by ``(sender, client_id)``: a repeat returns the first message and stores
    nothing. Returns only after commit, so an ack built from the result is truthful.
    ``from_client=False`` is for an app's own services, which may send messages that
    clients may not (approval cards, say).
    """
    request = SendRequest(
        sender=sender,
        client_id=client_id,
        body=body,
        app=app,
        conversation_id=conversation_id,
        to_user_id=to_user_id,
        origin=origin,
        from_client=from_client,
    )
    outcome = message_send_many([request])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def message_send_many(requests: list[SendRequest]) -> list[SendResult | Exception]:
    """:func:`message_send` for several messages, with one commit: each request's result,
    or the error that refused it: an ApplicationError (``invalid`` for a row the
    database refuses), or the database's own error where storing it failed for a reason
    of ours. One refusal or failure does not hold up the others.

    Every request is checked as a single send is (membership, the visibility rules of a
    direct conversation, the app's own rules), but the checks of all of them share their
    queries, and the writes are one statement on PostgreSQL whatever the number of
    messages. A repeat of a stored message is answered with that message: the write
    finds it, or, for a send the checks refuse, one more query does. A worker's socket
    sends go through here in batches (``messaging.sending``).
    """
    outcomes: list[SendResult | Exception | None] = [None] * len(requests)
    sends: list[_Send] = []
    for index, request in enumerate(requests):
        try:
            sends.append(_send_checked(index, request))
        except ApplicationError as error:
            outcomes[index] = error
    sends, twins = _without_twins(sends)

    targets = _targets_resolve(
        [_Target(s.request.sender, s.request.conversation_id, s.request.to_user_id, s.request.app) for s in sends]
    )
    ready: list[_Send] = []
    refused: list[_Send] = []
    for send, target in zip(sends, targets):
        try:
            if target.error is not None:
                raise target.error
            send.conversation, send.audience = target.conversation, target.audience
            send.body = send.handler.clean(send.body, sender=send.request.sender, conversation=send.conversation)
        except ApplicationError as error:
            outcomes[send.index] = error
            refused.append(send)
            continue
        ready.append(send)
    if refused:
        # A repeat is answered with the message stored first, even where the checks
        # would refuse it now.
        stored = _messages_stored(refused)
        for send in refused:
            key = (send.request.sender.pk, send.client_id)
            if key in stored:
                outcomes[send.index] = SendResult(stored[key], created=False)

    if ready:
        try:
            _messages_store(ready)
        except Exception as failure:
            # Whatever failed the batch (a client_id that raced in on another worker, a
            # row the database refuses), the sends are stored one by one: only the
            # guilty fail, and where another worker's send stood first, it is the answer.
            for send in ready:
                error = failure if len(ready) == 1 else _message_store_alone(send)
                if error is not None:
                    outcomes[send.index] = send_failure(error)
    for send in ready:
        if outcomes[send.index] is None:
            outcomes[send.index] = _stored_outcome(send)
    for index, first in twins:
        outcome = outcomes[first]
        outcomes[index] = SendResult(outcome.message, created=False) if isinstance(outcome, SendResult) else outcome
    return outcomes  # type: ignore[return-value]


def _send_checked(index: int, request: SendRequest) -> _Send:
    """The request's own checks, which need no query."""
    client_id = require_client_id(request.client_id)
    body = check_body(request.body)
    if not isinstance(request.app, str):
        raise ApplicationError(_("app must be a string."), code="invalid")
    handler = app_handlers.get(request.app)
    if request.from_client and not handler.client_sendable:
        raise ApplicationError(
            _("Messages of %(app)r are sent by the application itself.") % {"app": request.app},
            code="not_permitted",
        )
    return _Send(index=index, request=request, client_id=client_id, body=body, handler=handler)


def _without_twins(sends: list[_Send]) -> tuple[list[_Send], list[tuple[int, int]]]:
    """Drop the repeats of others in this batch: the firsts, and the pairs (repeat's
    index, first's index)."""
    first: dict[tuple[int, str], int] = {}
    firsts, twins = [], []
    for send in sends:
        key = (send.request.sender.pk, send.client_id)
        if key in first:
            twins.append((send.index, first[key]))
        else:
            first[key] = send.index
            firsts.append(send)
    return firsts, twins


def _messages_stored(sends: list[_Send]) -> dict[tuple[int, str], Message]:
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


def _conversation_for_send(*, sender: User, conversation_id: Any, to_user_id: Any, app: str) -> Conversation:
    return _target_resolve(_Target(sender, conversation_id, to_user_id, app)).conversation


def _target_resolve(target: _Target) -> _Target:
    """One target, resolved as a send's (:func:`_targets_resolve`), or its error raised."""
    (target,) = _targets_resolve([target])
    if target.error is not None:
        raise target.error
    return target


@policy.one_policy_version()
def _targets_resolve(targets: list[_Target]) -> list[_Target]:
    """Each target's conversation and audience (the members' ids), or why its sender may
    not write there; the checks of all of them share their queries, and what they read
    is kept by the worker while the policy version stays (``messaging.send_cache``).

    - ``to``: the person must be active and not the sender, and the two may talk (or the
      app permits it); their direct conversation is created on first use.
    - a conversation: the sender must be a member; in a direct one, the rules may have
      changed since it began, so the two must still be allowed to talk.
    """
    by_id: list[_Target] = []
    by_person: list[_Target] = []
    for target in targets:
        try:
            if (target.conversation_id is None) == (target.to_user_id is None):
                raise ApplicationError(_("Give either a conversation or a recipient (to)."), code="invalid")
            if target.to_user_id is not None:
                require_number(target.to_user_id, "user")
                by_person.append(target)
            else:
                require_number(target.conversation_id, "conversation")
                by_id.append(target)
        except ApplicationError as error:
            target.error = error

    conversations = send_cache.conversations(t.conversation_id for t in by_id)
    others: dict[int, int] = {}
    for target in by_id:
        conversation, members = conversations.get(target.conversation_id, (None, ()))
        if conversation is None or target.sender.pk not in members:
            target.error = ApplicationError(_("No such conversation."), code="not_found")
            continue
        target.conversation, target.audience = conversation, members
        if conversation.kind == Conversation.Kind.DIRECT:
            other_id = next((m for m in target.audience if m != target.sender.pk), None)
            if other_id is None:
                target.error = ApplicationError(_("You may no longer write to this person."), code="not_permitted")
            else:
                others[id(target)] = other_id

    people = send_cache.users({t.to_user_id for t in by_person} | set(others.values()))
    for target in by_person:
        other = people.get(target.to_user_id)
        if other is None or not other.is_active:
            target.error = ApplicationError(_("No such person."), code="not_found")
        elif other.pk == target.sender.pk:
            target.error = ApplicationError(_("You cannot open a conversation with yourself."), code="invalid")
        else:
            target.other = other
    for target in by_id:
        if id(target) in others:
            target.other = people.get(others[id(target)])
            if target.other is None:
                target.error = ApplicationError(_("You may no longer write to this person."), code="not_permitted")

    checked = [t for t in targets if t.error is None and t.other is not None]
    decisions = policy.may_talk_many([(t.sender, t.other) for t in checked]) if checked else []
    for target, allowed in zip(checked, decisions):
        if allowed or conversation_permitted_by_app(target.sender, target.other, app=target.app):
            continue
        if target.conversation is not None:
            target.error = ApplicationError(_("You may no longer write to this person."), code="not_permitted")
        else:
            target.error = ApplicationError(
                _("You may not start a conversation with %(name)s.") % {"name": target.other.name},
                code="not_permitted",
            )

    wanted = [t for t in by_person if t.error is None]
    keys = {Conversation.direct_key_for(t.sender.pk, t.other.pk) for t in wanted}
    existing = send_cache.direct(keys)
    for target in wanted:
        key = Conversation.direct_key_for(target.sender.pk, target.other.pk)
        if key not in existing:
            existing[key] = _direct_conversation(target.sender.pk, target.other.pk)
        target.conversation, target.audience = existing[key], [target.sender.pk, target.other.pk]
    return targets


def conversation_access_for_send(*, user: User, conversation_id: Any, app: str) -> Conversation:
    """A conversation ``user`` may still send ``app`` messages to: the check a send makes,
    for an app that stores something for a message before sending it (a file, say)."""
    return _conversation_for_send(sender=user, conversation_id=conversation_id, to_user_id=None, app=app)


def _messages_store(sends: list[_Send]) -> None:
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
        stored = _messages_stored(sends)
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


def _message_for(send: _Send, *, seq: int, now) -> Message:
    return Message(
        conversation_id=send.conversation.pk,
        seq=seq,
        sender=send.request.sender,
        app=send.request.app,
        body=send.body,
        client_id=send.client_id,
        created_at=now,
    )


_MESSAGE_COLUMNS = ["id", "seq", "sender_id", "client_id", "conversation_id", "app", "body", "created_at", "edited_at", "recalled_at"]


def _message_from_row(row: tuple) -> Message:
    """A Message from a row of :data:`_MESSAGE_COLUMNS`, as the ORM would load it."""
    values = dict(zip(_MESSAGE_COLUMNS, row))
    values["body"] = Message._meta.get_field("body").from_db_value(values["body"], None, connection)
    message = Message(**values)
    message._state.adding, message._state.db = False, connection.alias
    return message


def _messages_insert_postgresql(sends: list[_Send], now) -> None:
    """:func:`_messages_store`'s writes as one statement on PostgreSQL, one round trip
    with no BEGIN or COMMIT of its own: leave out the sends stored already, lock the
    conversations in id order, move each one's ``last_seq`` on by its number of new
    messages, insert those numbered from where it stood, and move each sender's read
    position to their last message. It answers with the new messages and the stored
    ones, whole (it does not see itself insert, so a repeat is never both)."""
    quote = connection.ops.quote_name
    conversation_table = quote(Conversation._meta.db_table)
    message_table = quote(Message._meta.db_table)
    member_table = quote(ConversationMember._meta.db_table)
    encoder = Message._meta.get_field("body").encoder
    columns = ", ".join(_MESSAGE_COLUMNS)
    rows = [
        (place, send.conversation.pk, send.request.sender.pk, send.request.app,
         json.dumps(send.body, cls=encoder), send.client_id)
        for place, send in enumerate(sends)
    ]  # fmt: skip
    batch, params = _rows_table(rows, ("integer", "bigint", "bigint", "text", "text", "text"))
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
                (conversation_id, seq, sender_id, app, body, client_id, created_at, edited_at, recalled_at)
            SELECT column2, seq, column3, column4, column5::jsonb, column6, %s, NULL, NULL FROM numbered
            RETURNING {columns}
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


def _messages_publish_on_commit(sends: list[_Send]) -> None:
    """After commit: the batch's events to the event loop in one hand-over, then each
    app's ``on_stored`` (one failing does not stop the others)."""
    events = [
        (send.audience, event("message.new", message_frame(send.message), origin=send.request.origin, id=send.message.pk))
        for send in sends
    ]
    stored = collections.Counter(send.request.app for send in sends)

    def published() -> None:
        publish_many(events)
        for app, count in stored.items():
            metrics.MESSAGES_STORED.labels(app=app).inc(count)

    transaction.on_commit(published)
    for send in sends:
        if type(send.handler).on_stored is not AppHandler.on_stored:
            transaction.on_commit(functools.partial(send.handler.on_stored, send.message), robust=True)


def _message_store_alone(send: _Send) -> Exception | None:
    try:
        _messages_store([send])
    except Exception as error:
        return error
    return None


def send_failure(error: Exception) -> Exception:
    """What answers a send that failed on its own: a value the database refuses is the
    client's error (``invalid``); anything else is a fault of ours, kept as it is."""
    if isinstance(error, DataError):
        return ApplicationError(_("The message could not be stored."), code="invalid")
    return error


def _stored_outcome(send: _Send) -> SendResult | ApplicationError:
    if send.message is None:  # its conversation was deleted while the batch was on its way
        return ApplicationError(_("No such conversation."), code="not_found")
    return SendResult(send.message, created=send.created)


def _message_for_author(*, user: User, message_id: Any, window_seconds: int) -> Message:
    message = Message.objects.select_for_update().filter(pk=message_id).first() if is_number(message_id) else None
    if message is None or not ConversationMember.objects.filter(
        conversation_id=message.conversation_id, user=user
    ).exists():
        raise ApplicationError(_("No such message."), code="not_found")
    if message.sender_id != user.pk:
        raise ApplicationError(_("Only the sender can change a message."), code="not_permitted")
    if message.recalled_at is not None:
        raise ApplicationError(_("This message was recalled."), code="conflict")
    if timezone.now() - message.created_at > timedelta(seconds=window_seconds):
        raise ApplicationError(
            _("Messages can only be changed within %(minutes)d minutes of sending.")
            % {"minutes": max(1, window_seconds // 60)},
            code="not_permitted",
        )
    return message


@transaction.atomic
def message_edit(*, user: User, message_id: Any, body: Any) -> Message:
    message = _message_for_author(
        user=user, message_id=message_id, window_seconds=settings.MESSAGE_EDIT_WINDOW_SECONDS
    )
    handler = app_handlers.get(message.app)
    if not handler.editable:
        raise ApplicationError(_("This kind of message cannot be edited."), code="not_permitted")
    message.body = handler.clean(check_body(body), sender=user, conversation=message.conversation)
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    publish_on_commit(
        conversation_member_ids(message.conversation_id), event("message.update", message_update_frame(message))
    )
    return message


@transaction.atomic
def message_recall(*, user: User, message_id: Any) -> Message:
    message = _message_for_author(
        user=user, message_id=message_id, window_seconds=settings.MESSAGE_RECALL_WINDOW_SECONDS
    )
    message.body = {}
    message.recalled_at = timezone.now()
    message.save(update_fields=["body", "recalled_at"])
    publish_on_commit(
        conversation_member_ids(message.conversation_id), event("message.update", message_update_frame(message))
    )
    return message


# --- reading, typing, signalling ------------------------------------------------------------


def conversation_mark_read(*, user: User, conversation_id: Any, seq: Any, origin: str | None = None) -> int:
    """Move my read position forward (never back) and tell the other members."""
    require_number(seq, "seq", minimum=0)
    conversation = conversation_access(user=user, conversation_id=conversation_id)
    seq = min(seq, conversation.last_seq)
    with transaction.atomic():
        updated = ConversationMember.objects.filter(
            conversation=conversation, user=user, last_read_seq__lt=seq
        ).update(last_read_seq=seq)
        if updated:
            frame = {"type": "receipt", "conversation": conversation.pk, "user": user.pk, "seq": seq}
            publish_on_commit(conversation_member_ids(conversation.pk), event("receipt.new", frame, origin=origin))
    return max(seq, ConversationMember.objects.get(conversation=conversation, user=user).last_read_seq)


def typing_notify(*, user: User, conversation_id: Any, origin: str | None = None) -> None:
    """Tell the other members that ``user`` is typing: only where a chat message from them
    would be accepted (a member, and in a direct conversation, the two may still talk;
    an app's permit to exchange its own messages is not one to chat)."""
    target = _target_resolve(_Target(user, conversation_id, None, "chat"))
    others = [uid for uid in target.audience if uid != user.pk]
    frame = {"type": "typing", "conversation": target.conversation.pk, "user": user.pk}
    publish_on_commit(others, event("typing.new", frame, origin=origin))


def signal_relay(*, sender: User, to_user_id: Any, data: Any, origin: str | None = None) -> None:
    """Relay P2P signalling (offer, answer, ICE candidate) to someone the sender may talk to."""
    if not isinstance(data, dict):
        raise ApplicationError(_("data must be a JSON object."), code="invalid")
    check_body(data)
    other = _user_get_active(to_user_id)
    if other.pk == sender.pk or not policy.may_talk(sender, other):
        raise ApplicationError(_("You may not signal this person."), code="not_permitted")
    publish_on_commit([other.pk], event("signal.new", {"type": "signal", "from": sender.pk, "data": data}, origin=origin))


# --- connections ----------------------------------------------------------------------


def connection_open(
    *, user: User, channel_name: str, worker: str, client: Any, user_agent: str, auth: str
) -> dict[str, Any]:
    """Record a new connection (the paper's login registration) and return its ``hello``."""
    address, port = (list(client or []) + [None, None])[:2]
    Connection.objects.create(
        user=user,
        channel_name=channel_name,
        worker=worker,
        remote_address=address,
        remote_port=port,
        user_agent=user_agent[:300],
        auth=auth,
    )
    return {
        "type": "hello",
        "user": {"id": user.pk, "username": user.username, "display_name": user.name},
        "server": worker,
        "last_message_id": last_message_id_for_user(user=user),
    }


def connection_close(*, channel_name: str) -> None:
    Connection.objects.filter(channel_name=channel_name, closed_at__isnull=True).update(closed_at=timezone.now())


def connections_close_all(*, user_id: int) -> None:
    """Every connection of the user, on every worker, closes at once (4401): their
    password changed, or the account was switched off."""
    publish_on_commit([user_id], event("connection.close", {}))


def connections_close_session(*, user_id: int, session_key: str) -> None:
    """The connections of a browser session that was signed out close at once (4401), on
    every worker; the user's other sessions and tokens keep theirs."""
    publish_on_commit([user_id], event("connection.close", {}, session=session_tag(session_key)))
