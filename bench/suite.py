"""`make bench`: the standard scenarios, from an empty machine to bench/results/.

    .venv/bin/python -m bench.suite            # what make bench runs
    BENCH_USERS=1000 ASGI_SERVER=uvicorn .venv/bin/python -m bench.suite --scenarios idle,direct

It creates the PostgreSQL database if it is missing and migrates it, empties the bench's
Redis database, and for each scenario lays the benchmark users out (``bench_users``),
starts the workers it needs, runs ``python -m bench`` against them and stops them. Then it
draws bench/results/bench.png. Every size and address is an environment variable (below),
so ``make bench BENCH_USERS=1000`` works too.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from psycopg import sql

from imsite.testing.servers import ROOT, CeleryWorker

from .chart import draw
from .client import PRESENCE_MODES
from .servers import ASGI_SERVERS, Worker

VAR = ROOT / "var" / "bench"


@dataclass(frozen=True)
class Plan:
    """One standard run: the scenario, its file, its users' layout and its workers."""

    name: str
    scenario: str
    workers: int = 1
    deflate: bool = False
    fanout_layout: bool = False
    # A generated history of messages to search (manage.py bench_messages, search_reindex).
    corpus: bool = False


PLANS = {
    plan.name: plan
    for plan in [
        Plan("idle", "idle"),
        Plan("idle-deflate", "idle", deflate=True),
        Plan("direct", "direct"),
        Plan("fanout", "fanout", fanout_layout=True),
        Plan("cluster", "cluster", workers=2),
        Plan("search", "search", corpus=True),
    ]
}


def env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.suite", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--database-url", default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_bench"),
        help="BENCH_DATABASE_URL: created if missing")
    add("--redis-url", default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="BENCH_REDIS_URL: one URL or several separated by commas; EMPTIED before each scenario")
    add("--users", type=int, default=int(env("BENCH_USERS", "300")), help="BENCH_USERS: idle, direct, cluster")
    add("--team-size", type=int, default=int(env("BENCH_TEAM_SIZE", "20")),
        help="BENCH_TEAM_SIZE: departments of this size for idle, direct and cluster")
    add("--rate", type=float, default=float(env("BENCH_RATE", "40")), help="BENCH_RATE: messages a second")
    add("--duration", type=float, default=float(env("BENCH_DURATION", "15")), help="BENCH_DURATION: seconds")
    add("--fanout-users", type=int, default=int(env("BENCH_FANOUT_USERS", "100")),
        help="BENCH_FANOUT_USERS: members of the fan-out department, all online")
    add("--repeats", type=int, default=int(env("BENCH_REPEATS", "5")), help="BENCH_REPEATS: fan-out rounds")
    add("--search-messages", type=int, default=int(env("BENCH_SEARCH_MESSAGES", "1000000")),
        help="BENCH_SEARCH_MESSAGES: the generated history's size, for search")
    add("--search-users", type=int, default=int(env("BENCH_SEARCH_USERS", "1000")),
        help="BENCH_SEARCH_USERS: the users of the generated history, who search")
    add("--search-send-rate", type=float, default=float(env("BENCH_SEARCH_SEND_RATE", "500")),
        help="BENCH_SEARCH_SEND_RATE: messages a second sent, with and without searches")
    add("--search-duration", type=float, default=float(env("BENCH_SEARCH_DURATION", "60")),
        help="BENCH_SEARCH_DURATION: seconds of each phase without searches")
    add("--searches", type=int, default=int(env("BENCH_SEARCHES", "1000")), help="BENCH_SEARCHES: searches asked")
    add("--search-rate", type=float, default=float(env("BENCH_SEARCH_RATE", "10")),
        help="BENCH_SEARCH_RATE: searches a second")
    add("--presence", choices=PRESENCE_MODES, default=env("BENCH_PRESENCE", "subscribe"),
        help="BENCH_PRESENCE: how the clients take presence (docs/protocol.md)")
    add("--asgi-server", choices=ASGI_SERVERS, default=env("ASGI_SERVER", "daphne"), help="ASGI_SERVER")
    add("--scenarios", default=env("BENCH_SCENARIOS", ",".join(PLANS)), help="BENCH_SCENARIOS")
    add("--results", type=Path, default=Path(env("BENCH_RESULTS", str(ROOT / "bench" / "results"))),
        help="BENCH_RESULTS: where the JSON files and bench.png go")
    args = parser.parse_args(argv)  # fmt: skip
    unknown = [n for n in args.scenarios.split(",") if n not in PLANS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(PLANS)}")
    args.plans = [PLANS[n] for n in args.scenarios.split(",")]
    args.redis_urls = [u.strip() for u in args.redis_url.split(",") if u.strip()]
    if not args.database_url.startswith("postgres"):
        parser.error("the benchmark runs on PostgreSQL: BENCH_DATABASE_URL=postgres://…")
    return args


def step(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def database_create(url: str) -> str:
    """Create the database if it is missing; its server's version."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, dbname="postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            step(f"creating the database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return connection.execute("SHOW server_version").fetchone()[0].split()[0]


def redis_flush(urls: list[str]) -> str:
    """Empty the bench's Redis databases (stale groups and presence of earlier runs would
    cost every send); the server's version."""
    version = ""
    for url in urls:
        client = redis.Redis.from_url(url)
        client.flushdb()
        version = client.info("server")["redis_version"]
        client.close()
    return version


def connections_closed(url: str, since: datetime.datetime, limit: float = 60) -> bool:
    """Wait until the workers have finished closing the connections opened since ``since``
    (a closed connection's row gets its ``closed_at`` last), at most ``limit`` seconds:
    stopping a worker earlier would cut short the presence and bookkeeping of the last
    disconnects."""
    deadline = time.monotonic() + limit
    query = "SELECT count(*) FROM messaging_connection WHERE closed_at IS NULL AND connected_at >= %s"
    with psycopg.connect(url, autocommit=True) as connection:
        while True:
            (open_,) = connection.execute(query, [since]).fetchone()
            if not open_ or time.monotonic() > deadline:
                return not open_
            time.sleep(0.5)


def manage(*args: str, environ: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environ, check=True)


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tokens = args.results / "tokens.json"
        self.corpus = args.results / "corpus.json"
        self.environ = {
            **os.environ,
            "DATABASE_URL": args.database_url,
            "REDIS_URL": ",".join(args.redis_urls),
            "CELERY_BROKER_URL": args.redis_urls[0],
            "SECURE": "false",
            # Every simulated client comes from 127.0.0.1: one address, thousands of people.
            "SOCKET_LIMIT_PER_ADDRESS": "0",
        }
        self.versions: dict[str, str] = {}

    def set_up(self) -> None:
        step("database and Redis")
        self.versions["postgresql"] = database_create(self.args.database_url)
        self.versions["redis"] = redis_flush(self.args.redis_urls)
        manage("make_keys", "--verbosity", "0", environ=self.environ)
        manage("migrate", "--noinput", "--verbosity", "0", environ=self.environ)

    def layout(self, plan: Plan) -> int:
        """Lay the users out for ``plan`` and issue fresh tokens (they live 15 minutes)."""
        if plan.corpus:
            # Tokens for everyone of the history (the searchers); the first BENCH_USERS send.
            users = self.args.users
            everyone = max(users, self.args.search_users)

            def team_users() -> None:
                manage(
                    "bench_users", "--count", str(everyone), "--team-size", str(self.args.team_size),
                    "--tokens", str(self.tokens), environ=self.environ,
                )  # fmt: skip

            team_users()
            step(f"{plan.name}: a history of {self.args.search_messages} messages among {self.args.search_users} users")
            manage(
                "bench_messages", "--count", str(self.args.search_messages), "--users", str(self.args.search_users),
                "--out", str(self.corpus), environ=self.environ,
            )  # fmt: skip
            step(f"{plan.name}: indexing what is not indexed yet")
            manage("search_reindex", "--missing", environ=self.environ)
            # Building the history can outlast the first tokens (15 minutes): fresh ones.
            team_users()
        elif plan.fanout_layout:
            users = self.args.fanout_users
            manage("bench_users", "--count", str(users), "--tokens", str(self.tokens), environ=self.environ)
        else:
            users = self.args.users
            manage(
                "bench_users", "--count", str(users), "--team-size", str(self.args.team_size),
                "--tokens", str(self.tokens), environ=self.environ,
            )  # fmt: skip
        return users

    def server_settings(self, plan: Plan, users: int) -> dict[str, str]:
        layout = f"one department of {users}" if plan.fanout_layout else f"teams of {self.args.team_size}"
        if plan.corpus:
            layout += f"; a history of {self.args.search_messages} messages among {self.args.search_users} users"
        return {
            "asgi_server": self.args.asgi_server,
            "workers": str(plan.workers),
            "gc_freeze_interval": os.environ.get("GC_FREEZE_INTERVAL") or "60",
            "database": f"PostgreSQL {self.versions['postgresql']} (psycopg pool)",
            "channel_layer": f"RedisChannelLayer, Redis {self.versions['redis']}, {len(self.args.redis_urls)} host(s)",
            "layout": layout,
        }

    def run(self, plan: Plan) -> dict:
        users = self.layout(plan)
        redis_flush(self.args.redis_urls)
        settings = self.server_settings(plan, users)
        label = (
            f"{plan.workers} {self.args.asgi_server} worker(s), {settings['database']}, "
            f"{settings['channel_layer']}; {users} users in {settings['layout']}"
        )
        out = self.args.results / f"{plan.name}.json"
        VAR.mkdir(parents=True, exist_ok=True)
        started = datetime.datetime.now(datetime.timezone.utc)
        # One Celery worker beside the web workers, as `make cluster` runs: it indexes what
        # is sent for search (search.tasks), whose CPU the search scenario reports apart.
        celery = CeleryWorker("bench-celery", self.environ, VAR)
        workers = [
            Worker(f"bench-{n}", self.environ, VAR, asgi_server=self.args.asgi_server)
            for n in range(1, plan.workers + 1)
        ]
        try:
            celery.wait_ready()
            for worker in workers:
                worker.wait_ready(timeout=60)
            step(f"{plan.name}: {users} users on {label.split(';')[0]}")
            rate, duration = self.args.rate, self.args.duration
            if plan.corpus:
                rate, duration = self.args.search_send_rate, self.args.search_duration
            command = [
                sys.executable, "-m", "bench", "--scenario", plan.scenario, "--users", str(users),
                "--rate", str(rate), "--duration", str(duration),
                "--corpus", str(self.corpus), "--searches", str(self.args.searches),
                "--search-rate", str(self.args.search_rate),
                "--repeats", str(self.args.repeats), "--tokens", str(self.tokens), "--out", str(out),
                "--presence", self.args.presence,
                "--url", ",".join(w.url for w in workers), "--server-pid", ",".join(str(w.pid) for w in workers),
                "--celery-pid", str(celery.pid),
                "--label", label, *(f"--server-setting={k}={v}" for k, v in settings.items()),
                *(["--deflate"] if plan.deflate else []),
            ]  # fmt: skip
            subprocess.run(command, cwd=ROOT, env=self.environ, check=True, stdout=subprocess.DEVNULL)
            if not connections_closed(self.args.database_url, started):
                step(f"{plan.name}: the workers were still closing connections a minute after the clients left")
        finally:
            for worker in workers:
                worker.stop()
            celery.stop()
        return json.loads(out.read_text())


def report(name: str, result: dict) -> str:
    latency = result["latency_ms"]
    parts = [f"{name:13} {result['connections']} connections"]
    if result.get("kb_per_connection") is not None:
        parts.append(f"{result['kb_per_connection']} KB each, {result.get('connect_per_s')} connects/s")
    if latency["p50"] is not None:
        parts.append(f"p50/p95/p99 {latency['p50']}/{latency['p95']}/{latency['p99']} ms")
    if result.get("delivered_per_s") is not None:
        parts.append(f"{result['delivered_per_s']} delivered/s")
    if result.get("search"):
        found = result["search"]["latency_ms"]
        parts.append(f"searches p50/p95 {found['p50']}/{found['p95']} ms, send p99 ×{result['send_p99_ratio']} beside alone")
    parts.append(f"errors {result['errors']}, lost {result['lost']}, duplicates {result['duplicates']}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    suite = Suite(args)
    started = time.monotonic()
    suite.set_up()
    results, failed = {}, []
    for plan in args.plans:
        try:
            results[plan.name] = suite.run(plan)
        except (subprocess.CalledProcessError, RuntimeError) as error:
            step(f"{plan.name} FAILED: {error} (worker logs in {VAR})")
            failed.append(plan.name)
    # The chart shows every standard result on disk, so a run of a few scenarios keeps the others.
    files = {name: args.results / f"{name}.json" for name in PLANS}
    on_disk = {name: json.loads(path.read_text()) for name, path in files.items() if path.exists()}
    if on_disk:
        draw(on_disk, args.results / "bench.png")
    step(f"done in {time.monotonic() - started:.0f} s; results in {args.results}")
    for name, result in results.items():
        print("  " + report(name, result))
    # Lost messages and errors are findings (a saturated worker loses the race), not a
    # failure of the run; a scenario that could not run is.
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
