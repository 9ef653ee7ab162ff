"""What /readyz checks: that this worker reaches its database and every Redis host it uses
(the channel layer and presence, settings.REDIS_URLS). /healthz only says the process
answers; a balancer or an orchestrator takes a worker out of rotation on /readyz instead.

Each check opens a connection of its own, so that it says whether the service answers now,
whatever the worker's pools hold, and each is bounded by READY_TIMEOUT_SECONDS: a host
that accepts connections but never answers fails the check instead of holding the probe.
The checks run together, so the probe takes about that long at worst."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 1.0
OK, UNREACHABLE = "ok", "unreachable"


async def readiness_checks() -> dict[str, str]:
    """``{"database": "ok", "redis-1": "ok", …}``: each check's outcome, ``ok`` or
    ``unreachable``. Redis hosts are numbered in REDIS_URL's order; neither addresses nor
    errors are named, since anyone may ask (the log has the errors)."""
    checks = {"database": _database()}
    for number, url in enumerate(settings.REDIS_URLS, start=1):
        checks[f"redis-{number}"] = _redis(url)
    outcomes = await asyncio.gather(*(_bounded(name, check) for name, check in checks.items()))
    return dict(zip(checks, outcomes))


async def _bounded(name: str, check) -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await check
    except TimeoutError:
        logger.warning("Readiness: %s did not answer within %s s", name, READY_TIMEOUT_SECONDS)
        return UNREACHABLE
    except Exception as error:  # whatever the driver raises, the service is not usable
        logger.warning("Readiness: %s failed: %s: %s", name, type(error).__name__, error)
        return UNREACHABLE
    return OK


async def _database() -> None:
    connection = connections["default"]
    if connection.vendor == "postgresql":
        import psycopg

        # Django's own parameters (host, credentials, TLS options), less what only its
        # cursors use. psycopg's asynchronous connect gives way to the timeout's cancellation.
        params = {
            key: value
            for key, value in connection.get_connection_params().items()
            if key not in ("cursor_factory", "context", "prepare_threshold")
        }
        async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
            await conn.execute("SELECT 1")
    elif connection.vendor == "sqlite":
        # A file on this machine: that it opens and its schema reads (not locked for long).
        await sync_to_async(_sqlite_reads, thread_sensitive=False)(str(connection.settings_dict["NAME"]))
    else:  # pragma: no cover - Switchboard runs on SQLite or PostgreSQL
        raise RuntimeError(f"no readiness check for {connection.vendor}")


def _sqlite_reads(path: str) -> None:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=READY_TIMEOUT_SECONDS)) as conn:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


async def _redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=READY_TIMEOUT_SECONDS,
        socket_timeout=READY_TIMEOUT_SECONDS,
        driver_info=None,  # as the channel layer's (settings.CHANNEL_LAYERS)
    )
    try:
        await client.ping()
    finally:
        await client.aclose()
