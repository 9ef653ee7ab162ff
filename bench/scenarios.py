"""The benchmark scenarios. Each takes the parsed arguments and the users (id, username,
token) and returns its figures; ``bench.__main__`` adds the keys every result shares."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import json
import multiprocessing
import os
import random
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

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




# --- search ---------------------------------------------------------------------------

#: The kinds of search asked, and their shares of the searches.
SEARCH_KINDS = {
    "rare word": 0.2,
    "common word": 0.2,
    "two words": 0.15,
    "in: a conversation": 0.15,
    "from: a person": 0.1,
    "after: a date": 0.1,
    "by relevance": 0.1,
}


def search_plan(corpus: dict, users: list[dict], count: int, seed: int = 7) -> list[tuple[str, dict, dict]]:
    """``count`` searches (kind, user, query parameters) by users of the generated history,
    always the same for one seed. Each user is in a few dozen of its conversations."""
    rng = random.Random(seed)
    words = corpus["words"]
    searchers = [u for u in users if corpus["conversations"].get(u["username"])]
    if not searchers:
        raise SystemExit("no user with a token is in the generated history: run bench_messages and bench_users")
    after = (datetime.date.today() - datetime.timedelta(days=60)).isoformat()
    kinds = rng.choices(list(SEARCH_KINDS), list(SEARCH_KINDS.values()), k=count)
    plan = []
    for kind in kinds:
        user = rng.choice(searchers)
        common = rng.choice(words["common"])
        params = {"q": common}
        if kind == "rare word":
            params = {"q": rng.choice(words["rare"])}
        elif kind == "two words":
            params = {"q": rng.choice(words["mixed"]) if rng.random() < 0.5 else f"{common} {rng.choice(words['common'])}"}
        elif kind == "in: a conversation":
            params = {"q": f"{common} in:{rng.choice(corpus['conversations'][user['username']])}"}
        elif kind == "from: a person":
            params = {"q": f"{common} from:{rng.choice(searchers)['username']}"}
        elif kind == "after: a date":
            params = {"q": f"{common} after:{after}"}
        elif kind == "by relevance":
            params = {"q": common, "sort": "relevance"}
        plan.append((kind, user, params))
    return plan


def _search_once(url: str, user: dict, params: dict) -> tuple[int, int, float]:
    """One search through the REST API: its status, how many results, its milliseconds."""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/v1/search/messages/?{urllib.parse.urlencode(params)}",
        headers={"Authorization": f"Bearer {user['token']}"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            found = len(json.load(response)["results"])
            status = response.status
    except urllib.error.HTTPError as error:
        status, found = error.code, 0
    return status, found, (time.perf_counter() - started) * 1000


def searches_run(urls: list[str], plan: list[tuple[str, dict, dict]], seconds: float) -> dict:
    """The planned searches at an even pace over ``seconds`` (each is started on time,
    whether the ones before have finished or not, as many people searching would). It
    runs in a process of its own, so that its threads do not slow the senders' loop."""
    interval = seconds / len(plan)
    started = time.perf_counter()
    futures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as executor:
        for n, (kind, user, params) in enumerate(plan):
            delay = started + n * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append((kind, executor.submit(_search_once, urls[n % len(urls)], user, params)))
        done = [(kind, future.result()) for kind, future in futures]
    by_kind = {}
    for kind in SEARCH_KINDS:
        answers = [answer for k, answer in done if k == kind]
        ok = [a for a in answers if a[0] == 200]
        by_kind[kind] = {
            "searches": len(answers),
            "latency_ms": summary_ms([a[2] for a in ok]),
            "results_mean": round(statistics.fmean([a[1] for a in ok]), 1) if ok else None,
            "empty": sum(1 for a in ok if a[1] == 0),
            "errors": len(answers) - len(ok),
        }
    statuses = [answer[0] for _kind, answer in done]
    return {
        "searches": len(done),
        "seconds": round(time.perf_counter() - started, 1),
        "latency_ms": summary_ms([a[2] for _k, a in done if a[0] == 200]),
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "by_kind": by_kind,
    }


def _process_cpu(pid: int) -> float:
    """User and system CPU of one process so far, in clock ticks (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pids: list[int], celery: int | None = None) -> dict[str, float] | None:
    """CPU seconds so far of the web workers with their children (the word segmenter), of
    the Celery worker with its pool (the indexing), and of every PostgreSQL process on the
    machine, from /proc."""
    if not pids:
        return None
    ticks = os.sysconf("SC_CLK_TCK")

    def tree(pid: int) -> int:
        return _process_cpu(pid) + sum(tree(child) for child in _children(pid))

    workers = sum(tree(p) for p in pids)
    indexing = tree(celery) if celery else 0
    postgres = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    postgres += _process_cpu(int(entry.name))
            except OSError:
                continue
    return {"workers": workers / ticks, "celery": indexing / ticks, "postgresql": postgres / ticks}


async def search(args, users: list[dict]) -> dict:
    """1:1 messages at --rate, three times: alone for --duration, while --searches searches
    by the users of the generated history (``bench_messages``) are made at --search-rate a
    second, and alone again.
    The searches' latency by kind, and the sends' latency and the workers' CPU per message
    in each of the three."""
    corpus = json.loads(args.corpus.read_text())
    everyone = json.loads(args.tokens.read_text())
    plan = search_plan(corpus, everyone, args.searches)

    # The searches at --search-rate a second, the messages sent meanwhile; alone, --duration.
    searching_seconds = len(plan) / args.search_rate

    async def phase(clients: list[BenchClient], searches: bool) -> dict:
        cpu, load = _cpu_seconds(args.server_pids, args.celery_pid), os.getloadavg()[0]
        sending = _send_pairs(clients, rate=args.rate, duration=searching_seconds if searches else args.duration)
        if searches:
            searching = asyncio.get_running_loop().run_in_executor(
                searcher, searches_run, args.urls, plan, searching_seconds
            )
            found, run = await asyncio.gather(searching, sending)
        else:
            found, run = None, await sending
        figures = await _direct_figures(run, drain=args.drain)
        spent = _cpu_seconds(args.server_pids, args.celery_pid)
        for name in ("workers", "celery", "postgresql"):
            # Per message sent; with searches running it holds their cost too.
            figures[f"{name}_cpu_ms_per_message"] = (
                round((spent[name] - cpu[name]) * 1000 / figures["sent"], 3) if cpu and spent else None
            )
        figures["load_average_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
        await settle(clients, quiet=0.5, limit=args.settle)
        return {"sends": figures, "search": found}

    searcher = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    async def measure(clients: list[BenchClient]) -> dict:
        # The searching process starts (and imports) before anything is timed.
        await asyncio.get_running_loop().run_in_executor(searcher, int)
        before = (await phase(clients, searches=False))["sends"]
        during = await phase(clients, searches=True)
        after = (await phase(clients, searches=False))["sends"]
        alone_p99 = [p["latency_ms"]["p99"] for p in (before, after) if p["latency_ms"]["p99"] is not None]
        sends = during["sends"]
        return {
            **sends,
            "search": during["search"],
            "sends_alone_before": before,
            "sends_alone_after": after,
            "send_p99_ratio": (
                round(sends["latency_ms"]["p99"] / statistics.fmean(alone_p99), 3)
                if alone_p99 and sends["latency_ms"]["p99"]
                else None
            ),
            "lost": before["lost"] + sends["lost"] + after["lost"],
        }

    with searcher:
        return await _connected_run(args, users, measure)


SCENARIOS = {"idle": idle, "direct": direct, "fanout": fanout, "cluster": cluster, "search": search}
