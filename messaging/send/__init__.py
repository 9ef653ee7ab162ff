"""The send leg: a message's checks, its store with one commit, and the worker's queue
that gathers socket sends into batches.

    socket frame / REST call / an app's service
      -> service.message_send_many   checks.py (body, app, target, rules; cache.py keeps reads)
      -> store.py                    one statement on PostgreSQL; gap-free seq; idempotent
      -> realtime.publish            after commit, to every connection of every member
"""

from .checks import (
    MAX_BODY_BYTES,
    SendRequest,
    SendResult,
    check_body,
    conversation_access_for_send,
    conversation_get_or_create_direct,
)
from .service import message_send, message_send_many
from .store import send_failure

__all__ = [
    "MAX_BODY_BYTES",
    "SendRequest",
    "SendResult",
    "check_body",
    "conversation_access_for_send",
    "conversation_get_or_create_direct",
    "message_send",
    "message_send_many",
    "send_failure",
]
