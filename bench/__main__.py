"""Run one benchmark scenario against a running server and write its figures as JSON.

    .venv/bin/python -m bench --scenario direct --users 300 --rate 300 --url http://127.0.0.1:8000 \
        --tokens bench/results/tokens.json --out bench/results/direct.json

Tokens come from `manage.py bench_users --count N --tokens FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import websockets


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


class BenchClient:
    def __init__(self, user: dict, ws) -> None:
        self.user = user
        self.ws = ws
        self.received: dict[str, float] = {}
        self.duplicates = 0
        self.errors: list[str] = []
        self.acks = 0
        self.task: asyncio.Task | None = None

    async def reader(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                key = frame.get("client_id")
                if key in self.received:
                    self.duplicates += 1
                else:
                    self.received[key] = time.perf_counter()
            elif kind == "ack":
                self.acks += 1
            elif kind == "error":
                self.errors.append(frame.get("code", "?"))


async def connect_all(url: str, users: list[dict], concurrency: int = 20) -> tuple[list[BenchClient], float]:
    ws_url = url.replace("http", "ws", 1).rstrip("/") + "/ws/"
    semaphore = asyncio.Semaphore(concurrency)

    async def one(user):
        async with semaphore:
            ws = await websockets.connect(
                ws_url,
                additional_headers={"Authorization": f"Bearer {user['token']}"},
                compression=None,
                max_queue=None,
                open_timeout=30,
            )
            json.loads(await ws.recv())  # hello
            client = BenchClient(user, ws)
            client.task = asyncio.create_task(client.reader())
            return client

    started = time.perf_counter()
    clients = await asyncio.gather(*(one(u) for u in users))
    return list(clients), time.perf_counter() - started


def server_rss_mb(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def scenario_idle(args, users) -> dict:
    rss_before = server_rss_mb(args.server_pid)
    clients, seconds = await connect_all(args.url, users)
    await asyncio.sleep(2)
    rss_after = server_rss_mb(args.server_pid)
    for c in clients:
        await c.ws.close()
    per_connection = (
        round((rss_after - rss_before) * 1024 / len(clients), 1) if rss_before and rss_after else None
    )
    return {
        "connections": len(clients),
        "connect_per_s": round(len(clients) / seconds, 1),
        "server_rss_mb": rss_after,
        "kb_per_connection": per_connection,
        "delivered_per_s": None,
        "latency_ms": None,
        "errors": 0,
        "lost": 0,
        "duplicates": 0,
    }


async def scenario_direct(args, users) -> dict:
    """Pairs of users send 1:1 messages at a total rate; latency is send to delivery."""
    clients, _connect_seconds = await connect_all(args.url, users)
    # Let the presence fan-out of the connections finish before measuring messages.
    await asyncio.sleep(args.settle)
    random.seed(1)
    pairs = [(clients[i], clients[i + 1]) for i in range(0, len(clients) - 1, 2)]
    sent_at: dict[str, float] = {}
    recipient_of: dict[str, BenchClient] = {}
    total = int(args.rate * args.duration)
    interval = 1.0 / args.rate
    started = time.perf_counter()
    for n in range(total):
        sender, recipient = pairs[n % len(pairs)]
        if n % 2:
            sender, recipient = recipient, sender
        key = uuid.uuid4().hex
        frame = {"type": "send", "client_id": key, "to": recipient.user["id"], "body": {"text": "bench"}}
        sent_at[key] = time.perf_counter()
        recipient_of[key] = recipient
        await sender.ws.send(json.dumps(frame))
        delay = started + (n + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    send_seconds = time.perf_counter() - started
    deadline = time.perf_counter() + args.drain
    while time.perf_counter() < deadline:
        if all(k in recipient_of[k].received for k in sent_at):
            break
        await asyncio.sleep(0.1)
    arrivals = [recipient_of[k].received[k] for k in sent_at if k in recipient_of[k].received]
    finished = max(arrivals, default=time.perf_counter())
    latencies = [(recipient_of[k].received[k] - t) * 1000 for k, t in sent_at.items() if k in recipient_of[k].received]
    delivered = len(latencies)
    rss = server_rss_mb(args.server_pid)
    for c in clients:
        await c.ws.close()
    # "lost" counts sends not delivered before the drain ended: a saturated server may
    # still hold them unprocessed (not acked); "acked" says how many were stored.
    return {
        "connections": len(clients),
        "sent": total,
        "send_seconds": round(send_seconds, 2),
        "acked": sum(c.acks for c in clients),
        "delivered": delivered,
        "delivered_per_s": round(delivered / max(finished - started, 1e-9), 1),
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "mean": round(statistics.fmean(latencies), 2) if latencies else None,
        },
        "server_rss_mb": rss,
        "kb_per_connection": None,
        "errors": sum(len(c.errors) for c in clients),
        "error_codes": sorted({code for c in clients for code in c.errors}),
        "lost": total - delivered,
        "duplicates": sum(c.duplicates for c in clients),
    }


SCENARIOS = {"idle": scenario_idle, "direct": scenario_direct}


def versions() -> dict:
    import channels
    import daphne
    import django

    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "channels": channels.__version__,
        "daphne": daphne.__version__,
        "machine": f"{platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100, help="messages per second, all senders together")
    parser.add_argument("--duration", type=float, default=10, help="seconds of sending")
    parser.add_argument("--settle", type=float, default=5, help="seconds between connecting and sending")
    parser.add_argument("--drain", type=float, default=15, help="seconds to wait for late deliveries")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--tokens", type=Path, default=Path("bench/results/tokens.json"))
    parser.add_argument("--server-pid", type=int, help="the server's pid, to read its memory")
    parser.add_argument("--label", default="", help="what the server ran on (database, layer, server)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    users = json.loads(args.tokens.read_text())[: args.users]
    if len(users) < args.users:
        raise SystemExit(f"only {len(users)} tokens in {args.tokens}; run manage.py bench_users --count {args.users}")
    result = asyncio.run(SCENARIOS[args.scenario](args, users))
    result.update(
        {
            "scenario": args.scenario,
            "users": args.users,
            "rate": args.rate if args.scenario != "idle" else None,
            "duration_s": args.duration if args.scenario != "idle" else None,
            "server": args.label,
            "versions": versions(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
