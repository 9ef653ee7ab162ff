"""The client's pure parts: the jittered backoff and the inbox's dedup and resync cursor.
Its behaviour against real workers is messaging/tests/test_failover.py."""

from __future__ import annotations

import random

import pytest

from clients.switchboard_client import Inbox, backoff_delay


@pytest.mark.parametrize(
    ("attempt", "bound"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (4, 8.0), (5, 10.0), (50, 10.0), (10_000, 10.0)],
)
def test_backoff_stays_within_the_exponential_bound_and_the_cap(attempt, bound):
    rng = random.Random(attempt)
    delays = [backoff_delay(attempt, base=0.5, cap=10.0, rng=rng) for _ in range(2000)]
    assert all(0.0 <= delay <= bound for delay in delays)
    # Full jitter spreads over the whole range, not around a point near the bound.
    assert min(delays) < bound * 0.05 and max(delays) > bound * 0.95


def test_backoff_differs_between_clients():
    first, second = random.Random(1), random.Random(2)
    assert backoff_delay(3, base=0.5, cap=10.0, rng=first) != backoff_delay(3, base=0.5, cap=10.0, rng=second)


def message(message_id: int, conversation: int, seq: int) -> dict:
    return {"type": "message", "id": message_id, "conversation": conversation, "seq": seq}


def test_inbox_keeps_each_id_once_and_counts_the_repeats():
    inbox = Inbox()
    assert inbox.add(message(10, 1, 1)) and not inbox.add(message(10, 1, 1))
    assert (list(inbox.messages), inbox.duplicates, inbox.last_id) == ([10], 1, 10)


def test_inbox_resyncs_from_before_a_hole_until_it_is_filled():
    inbox = Inbox()
    inbox.add(message(10, 1, 1))
    inbox.add(message(11, 2, 1))
    inbox.note(1, 2, 12)  # our own ack in conversation 1
    inbox.add(message(14, 1, 4))  # seq 3 of conversation 1 is missing
    assert inbox.has_holes() and inbox.cursor() == 12
    inbox.add(message(13, 1, 3))
    assert not inbox.has_holes() and inbox.cursor() == 14


def test_inbox_cursor_ignores_acks_of_our_own_newer_messages():
    # Someone else's message may hold a lower id and still be on its way.
    inbox = Inbox(after=5)
    inbox.note(1, 1, 20)
    assert inbox.cursor() == 5
