"""Sending: check a batch, store it with one commit, publish it after (the route of a
message, for the socket, the REST API and the apps' own services alike)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from core.errors import ApplicationError

from .checks import (
    Send,
    SendRequest,
    SendResult,
    Target,
    originals_resolve,
    reply_check,
    send_checked,
    targets_resolve,
    without_twins,
)
from .mentions import mentions_resolve
from .store import message_store_alone, messages_store, messages_stored, send_failure, stored_outcome

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
    reply_to: Any = None,
    forward: Any = None,
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
        reply_to=reply_to,
        forward=forward,
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
    sends go through here in batches (``queue``).
    """
    outcomes: list[SendResult | Exception | None] = [None] * len(requests)
    sends: list[Send] = []
    for index, request in enumerate(requests):
        try:
            sends.append(send_checked(index, request))
        except ApplicationError as error:
            outcomes[index] = error
    sends, twins = without_twins(sends)
    refused_originals = originals_resolve(sends)
    for index, error in refused_originals.items():
        outcomes[index] = error
    # Like any refusal, a repeat of a stored message is answered with it (below).
    refused: list[Send] = [s for s in sends if s.index in refused_originals]
    sends = [s for s in sends if s.index not in refused_originals]

    targets = targets_resolve(
        [Target(s.request.sender, s.request.conversation_id, s.request.to_user_id, s.app) for s in sends]
    )
    ready: list[Send] = []
    for send, target in zip(sends, targets):
        try:
            if target.error is not None:
                raise target.error
            send.conversation, send.audience = target.conversation, target.audience
            reply_check(send)
            send.body = send.handler.clean(send.body, sender=send.request.sender, conversation=send.conversation)
        except ApplicationError as error:
            outcomes[send.index] = error
            refused.append(send)
            continue
        ready.append(send)
    if refused:
        # A repeat is answered with the message stored first, even where the checks
        # would refuse it now.
        stored = messages_stored(refused)
        for send in refused:
            key = (send.request.sender.pk, send.client_id)
            if key in stored:
                outcomes[send.index] = SendResult(stored[key], created=False)

    if ready:
        mentions_resolve(ready)
        try:
            messages_store(ready)
        except Exception as failure:
            # Whatever failed the batch (a client_id that raced in on another worker, a
            # row the database refuses), the sends are stored one by one: only the
            # guilty fail, and where another worker's send stood first, it is the answer.
            for send in ready:
                error = failure if len(ready) == 1 else message_store_alone(send)
                if error is not None:
                    outcomes[send.index] = send_failure(error)
    for send in ready:
        if outcomes[send.index] is None:
            outcomes[send.index] = stored_outcome(send)
    for index, first in twins:
        outcome = outcomes[first]
        outcomes[index] = SendResult(outcome.message, created=False) if isinstance(outcome, SendResult) else outcome
    return outcomes  # type: ignore[return-value]
