"""Run one benchmark scenario against running servers and write its figures as JSON.

    .venv/bin/python -m bench --scenario direct --users 300 --rate 40 --url http://127.0.0.1:8300 \\
        --server-pid 1234 --tokens bench/results/tokens.json --out bench/results/direct.json

Scenarios: idle (connections held; memory per connection, connect rate; --deflate offers
permessage-deflate as browsers do; --presence v1 has every client take all its contacts'
presence, as protocol v1 does, instead of none), direct (1:1 messages at --rate), fanout (one message
to the first user's department conversation, every member online, --repeats times),
cluster (direct with the clients spread over --url URL1,URL2, then a fan-out across them),
search (direct alone, then while --searches searches are made at --search-rate a second
by the users of the history that `manage.py bench_messages --out CORPUS` generated, then
alone again).
Tokens come from `manage.py bench_users --count N --tokens FILE`; `make bench` does all of it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import platform
import time
from pathlib import Path

from .client import PRESENCE_MODES
from .scenarios import SCENARIOS

#: Keys every result has, null where the scenario does not measure them.
COMMON = {
    "connections": None,
    "delivered_per_s": None,
    "latency_ms": {"p50": None, "p95": None, "p99": None},
    "server_rss_mb": None,
    "kb_per_connection": None,
    "errors": 0,
    "lost": 0,
    "duplicates": 0,
}
#: The scenarios that send 1:1 messages at --rate for --duration.
SENDING = ("direct", "cluster", "search")
PACKAGES = ["django", "channels", "channels-redis", "daphne", "uvicorn", "websockets", "redis", "psycopg"]


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    found["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    return found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100, help="messages per second, all senders together")
    parser.add_argument("--duration", type=float, default=10, help="seconds of sending")
    parser.add_argument("--repeats", type=int, default=5, help="fan-out rounds")
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate, as browsers do")
    parser.add_argument(
        "--presence",
        choices=PRESENCE_MODES,
        default="subscribe",
        help="subscribe: connect with ?presence=subscribe and follow no one; v1: take every contact's presence",
    )
    parser.add_argument(
        "--settle", type=float, default=30, help="at most this many seconds for the connections' presence to quieten"
    )
    parser.add_argument("--drain", type=float, default=15, help="seconds to wait for late deliveries")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the worker, or several separated by commas")
    parser.add_argument("--tokens", type=Path, default=Path("bench/results/tokens.json"))
    parser.add_argument("--server-pid", default="", help="the workers' pids (comma-separated), to read their memory")
    parser.add_argument("--label", default="", help="what the server ran on (database, layer, server)")
    parser.add_argument(
        "--server-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting to record with the figures (repeatable)",
    )
    parser.add_argument("--celery-pid", type=int, default=None,
                        help="the Celery worker's process id, whose CPU (with its pool's) the search scenario reports")
    parser.add_argument("--corpus", type=Path, default=Path("bench/results/corpus.json"),
                        help="search: the generated history's users and words (manage.py bench_messages --out)")
    parser.add_argument("--searches", type=int, default=1000, help="search: how many searches")
    parser.add_argument("--search-rate", type=float, default=10, help="search: searches a second")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.urls = [u.strip() for u in args.url.split(",") if u.strip()]
    try:
        args.server_pids = [int(p) for p in args.server_pid.split(",") if p.strip()]
    except ValueError:
        parser.error("--server-pid takes process ids separated by commas")
    if args.users < 2 or min(args.rate, args.duration, args.search_rate) <= 0 or min(args.repeats, args.searches) < 1:
        parser.error(
            "--users must be at least 2, --rate, --duration and --search-rate positive, --repeats and --searches at least 1"
        )
    if any("=" not in s for s in args.server_setting):
        parser.error("--server-setting takes NAME=VALUE")
    return args


def run(args: argparse.Namespace) -> dict:
    users = json.loads(args.tokens.read_text())[: args.users]
    if len(users) < args.users:
        raise SystemExit(
            f"only {len(users)} tokens in {args.tokens}; "
            f"run manage.py bench_users --count {args.users} --tokens {args.tokens}"
        )
    started = time.perf_counter()
    figures = asyncio.run(SCENARIOS[args.scenario](args, users))
    result = {
        **COMMON,
        **figures,
        "latency_ms": {**COMMON["latency_ms"], **(figures.get("latency_ms") or {})},
        "scenario": args.scenario,
        "users": args.users,
        "rate": args.rate if args.scenario in SENDING else None,
        "duration_s": args.duration if args.scenario in SENDING else None,
        "server": args.label,
        "settings": {
            "users": args.users,
            "rate": args.rate,
            "duration_s": args.duration,
            "repeats": args.repeats,
            "searches": args.searches if args.scenario == "search" else None,
            "search_rate": args.search_rate if args.scenario == "search" else None,
            "deflate": args.deflate,
            "presence": args.presence,
            "settle_s": args.settle,
            "drain_s": args.drain,
            "urls": args.urls,
            "server_pids": args.server_pids,
            "celery_pid": args.celery_pid,
            "server": dict(s.split("=", 1) for s in args.server_setting),
        },
        "versions": versions(),
        "run_seconds": round(time.perf_counter() - started, 1),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    result = run(parse_args())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
