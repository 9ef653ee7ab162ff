"""The benchmark scenarios. Each takes the parsed arguments and the users (id, username,
token) and returns its figures; ``bench.__main__`` adds the keys every result shares."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from .client import (
    BenchClient,
    close_all,
    connect_all,
    department_conversation,
    server_rss_mb,
    settle,
    summary_ms,
    wait_until,
)


def _errors(clients: list[BenchClient], failures: list[str]) -> dict:
    """Every error: refused connections, error frames, sockets the server closed."""
    codes = [code for c in clients for code in c.errors]
    codes += ["connect"] * len(failures) + ["closed"] * sum(c.closed_early for c in clients)
    return {
        "errors": len(codes),
        "error_codes": {code: codes.count(code) for code in sorted(set(codes))},
        "connect_failures": failures[:5],
    }


async def _connect(args, users: list[dict], minimum: int = 2):
    clients, seconds, failures = await connect_all(args.urls, users, deflate=args.deflate, presence=args.presence)
    if len(clients) < minimum:
        await close_all(clients)
        raise SystemExit(f"{len(failures)} of {len(users)} connections failed, e.g. {failures[:1]}")
    return clients, seconds, failures


def _duplicates(clients: list[BenchClient]) -> int:
    return sum(c.duplicates for c in clients)


def _workers(clients: list[BenchClient]) -> dict[str, int]:
    names = [str(c.server) for c in clients]
    return {name: names.count(name) for name in sorted(set(names))}


# --- idle -----------------------------------------------------------------------------


async def idle(args, users: list[dict]) -> dict:
    """N authenticated connections held open: memory per connection and connect rate."""
    # The first connection pays the worker's one-time costs (database pool, channel-layer
    # connections, lazy imports); memory per connection is measured after it.
    (first,), _seconds, _failures = await _connect(args, users[:1], minimum=1)
    await settle([first], quiet=0.5, limit=args.settle)
    rss_before = server_rss_mb(args.server_pids)
    rest, seconds, failures = await connect_all(
        args.urls, users[1:], deflate=args.deflate, presence=args.presence
    )
    clients = [first, *rest]
    settled = await settle(clients, limit=args.settle)
    rss_after = server_rss_mb(args.server_pids)
    errors = _errors(clients, failures)
    await close_all(clients)
    per_connection = (
        round((rss_after - rss_before) * 1024 / len(rest), 1) if rest and rss_before and rss_after else None
    )
    return {
        "connections": len(clients),
        "connect_per_s": round(len(rest) / seconds, 1) if rest else None,
        "connect_seconds": round(seconds, 2),
        "settle_seconds": settled,
        "deflate_offered": args.deflate,
        "deflate_negotiated": sum(c.deflate for c in clients),
        "server_rss_mb_before": rss_before,
        "server_rss_mb": rss_after,
        "kb_per_connection": per_connection,
        "delivered_per_s": None,
        "lost": 0,
        "duplicates": _duplicates(clients),
        **errors,
    }


# --- direct ---------------------------------------------------------------------------


@dataclass
class DirectRun:
    sent: dict[str, float] = field(default_factory=dict)  # client_id -> when it left
    sender: dict[str, BenchClient] = field(default_factory=dict)
    recipient: dict[str, BenchClient] = field(default_factory=dict)
    started: float = 0.0
    send_seconds: float = 0.0


async def _send_pairs(clients: list[BenchClient], *, rate: float, duration: float) -> DirectRun:
    """Neighbours (0, 1), (2, 3)… write to each other in turn, at ``rate`` messages a
    second in all. Clients spread round-robin over workers, so under several workers
    each pair straddles two of them."""
    pairs = [(clients[i], clients[i + 1]) for i in range(0, len(clients) - 1, 2)]
    if not pairs:
        raise SystemExit("the direct scenario needs at least two connected users")
    run = DirectRun()
    total = max(1, int(rate * duration))
    interval = 1.0 / rate
    run.started = time.perf_counter()
    for n in range(total):
        sender, recipient = pairs[n % len(pairs)]
        if (n // len(pairs)) % 2:
            sender, recipient = recipient, sender
        key = uuid.uuid4().hex
        run.sent[key] = time.perf_counter()
        run.sender[key], run.recipient[key] = sender, recipient
        await sender.send({"type": "send", "client_id": key, "to": recipient.user["id"], "body": {"text": "bench"}})
        delay = run.started + (n + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    run.send_seconds = time.perf_counter() - run.started
    return run


async def _direct_figures(run: DirectRun, *, drain: float) -> dict:
    pending = set(run.sent)

    def settled(key: str) -> bool:
        sender, recipient = run.sender[key], run.recipient[key]
        return key in sender.failed or (key in sender.acked and key in recipient.received)

    def answered_and_delivered() -> bool:
        # Only what is still pending is looked at again: the check runs every few ms.
        pending.difference_update([key for key in pending if settled(key)])
        return not pending

    # "lost" counts what the server took on (acked, or never answered) but did not deliver
    # before the drain ended: a saturated worker may still hold it.
    await wait_until(answered_and_delivered, drain)
    latencies, ack_latencies = [], []
    arrivals = []
    refused = unanswered = 0
    for key, sent_at in run.sent.items():
        sender, recipient = run.sender[key], run.recipient[key]
        if key in sender.failed:
            refused += 1
            continue
        if key in sender.acked:
            ack_latencies.append((sender.acked[key] - sent_at) * 1000)
        else:
            unanswered += 1
        if key in recipient.received:
            arrivals.append(recipient.received[key])
            latencies.append((recipient.received[key] - sent_at) * 1000)
    delivered = len(latencies)
    finished = max(arrivals, default=time.perf_counter())
    return {
        "sent": len(run.sent),
        "offered_per_s": round(len(run.sent) / max(run.send_seconds, 1e-9), 1),
        "send_seconds": round(run.send_seconds, 2),
        "acked": len(ack_latencies),
        "refused": refused,
        "unanswered": unanswered,
        "delivered": delivered,
        "delivered_per_s": round(delivered / max(finished - run.started, 1e-9), 1),
        "latency_ms": summary_ms(latencies),
        "ack_latency_ms": summary_ms(ack_latencies),
        "lost": len(run.sent) - refused - delivered,
    }


async def _connected_run(args, users: list[dict], measure) -> dict:
    """Connect everyone, let presence settle, run ``measure(clients)`` (its figures), then
    add what every connected scenario reports and close."""
    clients, seconds, failures = await _connect(args, users)
    settled = await settle(clients, limit=args.settle)
    figures = await measure(clients)
    rss = server_rss_mb(args.server_pids)
    errors = _errors(clients, failures)
    await close_all(clients)
    return {
        "connections": len(clients),
        "connect_per_s": round(len(clients) / seconds, 1),
        "settle_seconds": settled,
        **figures,
        "server_rss_mb": rss,
        "kb_per_connection": None,
        "duplicates": _duplicates(clients),
        **errors,
    }


async def direct(args, users: list[dict]) -> dict:
    """1:1 messages at a rate: delivered/s and send-to-delivery latency."""

    async def measure(clients: list[BenchClient]) -> dict:
        run = await _send_pairs(clients, rate=args.rate, duration=args.duration)
        return await _direct_figures(run, drain=args.drain)

    return await _connected_run(args, users, measure)


# --- fan-out --------------------------------------------------------------------------


async def _fanout_rounds(clients: list[BenchClient], *, url: str, repeats: int, drain: float) -> dict:
    """One message at a time to the first user's department conversation, every member
    online: from the send to the first and to the last member's delivery."""
    found = await asyncio.to_thread(department_conversation, url, clients[0].user["token"])
    if found is None:
        raise SystemExit(f"{clients[0].user['username']} has no department conversation; run bench_users first")
    conversation, members = found
    online = [c for c in clients if c.user["id"] in members]
    if len(online) < 2:
        raise SystemExit(f"only {len(online)} member(s) of conversation {conversation} are connected")
    missing = len(members) - len(online)
    rounds, latencies = [], []
    lost = 0
    for n in range(repeats):
        sender = online[n % len(online)]
        recipients = [c for c in online if c is not sender]
        key = uuid.uuid4().hex
        sent_at = time.perf_counter()
        await sender.send({"type": "send", "client_id": key, "conversation": conversation, "body": {"text": "fan-out"}})
        await wait_until(lambda: key in sender.failed or all(key in c.received for c in recipients), drain)
        if key in sender.failed:
            rounds.append({"refused": sender.failed[key]})
            continue
        arrivals = sorted((c.received[key] - sent_at) * 1000 for c in recipients if key in c.received)
        latencies += arrivals
        lost += len(recipients) - len(arrivals)
        rounds.append(
            {
                "recipients": len(recipients),
                "delivered": len(arrivals),
                "first_ms": round(arrivals[0], 2) if arrivals else None,
                "last_ms": round(arrivals[-1], 2) if arrivals else None,
            }
        )
        # Let the acks and receipts of this round pass before the next one starts.
        await settle(clients, quiet=0.3, limit=5)
    measured = [r for r in rounds if r.get("last_ms") is not None]
    spent = sum(r["last_ms"] for r in measured) / 1000
    return {
        "conversation": conversation,
        "members": len(members),
        "members_offline": missing,
        "workers": _workers(online),
        "repeats": repeats,
        "first_delivery_ms": summary_ms([r["first_ms"] for r in measured]),
        "last_delivery_ms": summary_ms([r["last_ms"] for r in measured]),
        "rounds": rounds,
        "delivered": len(latencies),
        "delivered_per_s": round(len(latencies) / spent, 1) if spent else None,
        "latency_ms": summary_ms(latencies),
        "lost": lost,
    }


async def fanout(args, users: list[dict]) -> dict:
    """One message to an N-member department conversation with all N online."""

    async def measure(clients: list[BenchClient]) -> dict:
        return await _fanout_rounds(clients, url=args.urls[0], repeats=args.repeats, drain=args.drain)

    return await _connected_run(args, users, measure)


# --- cluster --------------------------------------------------------------------------


async def cluster(args, users: list[dict]) -> dict:
    """``direct`` with the clients spread over several workers, then a fan-out to a
    department whose members sit on all of them."""
    if len(args.urls) < 2:
        raise SystemExit("the cluster scenario needs two or more workers: --url URL1,URL2")

    async def measure(clients: list[BenchClient]) -> dict:
        run = await _send_pairs(clients, rate=args.rate, duration=args.duration)
        figures = await _direct_figures(run, drain=args.drain)
        await settle(clients, quiet=0.5, limit=args.settle)
        spread = await _fanout_rounds(clients, url=args.urls[0], repeats=args.repeats, drain=args.drain)
        return {
            "workers": _workers(clients),
            **figures,
            "lost": figures["lost"] + spread["lost"],
            "fanout": spread,
        }

    return await _connected_run(args, users, measure)


SCENARIOS = {"idle": idle, "direct": direct, "fanout": fanout, "cluster": cluster}
