#!/usr/bin/env python3
"""Run the whole suite: the web client's modules under node --test, then the Python suite
twice, on the embedded defaults and on PostgreSQL and Redis.

The second run uses TEST_DATABASE_URL and TEST_REDIS_URL (by default the machine's own
services on 127.0.0.1); Django's test runner creates and drops its own database there.
Under CI=true an unreachable PostgreSQL or Redis fails the run; elsewhere it is reported
loudly and that run is left out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
SERVICE_KEYS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url.split(",")[0])
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest(label: str, extra_env: dict[str, str], args: list[str]) -> int:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_KEYS}
    env.update(extra_env)
    print(f"\n=== {label} ===", flush=True)
    return subprocess.call([PYTHON, "-m", "pytest", *args], cwd=ROOT, env=env)


def node_tests() -> int:
    """The pure modules of the web client (outbox, backoff, seq gaps, text): node --test."""
    print("\n=== web client modules: node --test messaging/tests/js ===", flush=True)
    return subprocess.call(["node", "--test", "messaging/tests/js/"], cwd=ROOT)


def main() -> int:
    args = sys.argv[1:]
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    failures = 0
    if not args:  # a selection of Python tests (make test ARGS=...) runs just those
        failures += node_tests() != 0
    failures += pytest("embedded defaults: SQLite, in-memory channel layer, eager Celery", {}, args) != 0

    missing = [
        name
        for name, url, port in [("PostgreSQL", DATABASE_URL, 5432), ("Redis", REDIS_URL, 6379)]
        if not reachable(url, port)
    ]
    if missing:
        message = f"{' and '.join(missing)} not reachable ({DATABASE_URL}, {REDIS_URL})"
        if ci:
            print(f"\nFAILED: {message}; under CI=true the real services are required.", flush=True)
            return 1
        print(f"\nWARNING: {message}: the PostgreSQL/Redis run was NOT done.", flush=True)
        return 1 if failures else 0

    failures += pytest(
        "real services: PostgreSQL and Redis",
        {"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL},
        args,
    ) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
