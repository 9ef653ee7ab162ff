"""The services behind the site: the database, Redis (channel layer, presence, cache) and
Celery. With nothing set: SQLite, the in-memory channel layer and eager Celery tasks."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from core.conf import env_bool, env_int, env_list

from .base import BASE_DIR, TIME_ZONE, VAR_DIR, key_file_text

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # A connection pool (psycopg_pool): the socket's database threads and the request
    # threads borrow connections instead of opening one per call.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_SIZE", 20),
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the async workers and the request threads share the file.
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent writers queue
    # instead of failing on a stale snapshot.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file too, not shared-cache memory, so that threads lock it as in production
    # (one per test run, so that two runs in one checkout do not meet).
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# See core.db: SQLite is called from one thread, PostgreSQL from a pool.
DB_THREAD_SENSITIVE = env_bool(
    "DB_THREAD_SENSITIVE", DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
)

# --- Redis: channel layer, presence, Celery ------------------------------------------
# REDIS_URL may name several hosts separated by commas; the channel layer shards across
# them with consistent hashing.
REDIS_URLS = env_list("REDIS_URL")
REDIS_URL = REDIS_URLS[0] if REDIS_URLS else ""
REDIS_POOL_SIZE = env_int("REDIS_POOL_SIZE", 1000)
CHANNEL_LISTENER_CAPACITY = env_int("CHANNEL_LISTENER_CAPACITY", 20000)

if REDIS_URLS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels-redis with redis-py 8 defaults to a pool of 100 connections that
                # raises when full and a 5 s socket timeout equal to the layer's blocking
                # pop, which drops consumers; give each host a larger pool and no timeout.
                "hosts": [
                    {
                        "address": url,
                        "max_connections": REDIS_POOL_SIZE,
                        "socket_timeout": None,
                        # A connection idle this long is pinged first, so that after a
                        # Redis restart the pool replaces its dead connections.
                        "health_check_interval": 2,
                        # No CLIENT SETINFO: redis-py would read its version from the
                        # package metadata (a directory scan) for every new connection,
                        # and send it in an extra round trip.
                        "driver_info": None,
                    }
                    for url in REDIS_URLS
                ],
                "capacity": env_int("CHANNEL_CAPACITY", 1000),
                # Each worker's listener (messaging.realtime.dispatch) carries every event of the
                # cluster, so it may hold far more than one connection's channel.
                "channel_capacity": {"workers*": CHANNEL_LISTENER_CAPACITY},
                "expiry": 60,
            },
        }
    }
else:
    # One process: the worker's listener is the only channel.
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CHANNEL_LISTENER_CAPACITY}}
    }

# The cache holds rate-limit buckets and the like; with Redis it is shared by all workers.
CACHES = {
    "default": (
        # The first host only: Django takes further hosts for read replicas of the first.
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "sb"}
        if REDIS_URLS
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Pending approvals older than APPROVAL_REMIND_AFTER_HOURS are reminded.
    "approvals-remind": {"task": "apps_approval.tasks.remind_pending", "schedule": 3600.0},
    "approvals-discard-unused-files": {"task": "apps_approval.tasks.discard_unused_files", "schedule": 86400.0},
    # Yesterday's results are settled shortly after midnight (in TIME_ZONE); whoever has not
    # checked in by their start plus grace is reminded once, checked every five minutes.
    "attendance-close-day": {"task": "apps_attendance.tasks.close_day", "schedule": crontab(hour=0, minute=15)},
    "attendance-remind-check-in": {"task": "apps_attendance.tasks.remind_check_in", "schedule": 300.0},
}

# --- Web Push (push) ------------------------------------------------------------------
# The VAPID key that signs pushes to the browsers' push services: VAPID_PRIVATE_KEY (PEM,
# or the base64url raw or DER form py-vapid reads) or the file named by
# VAPID_PRIVATE_KEY_FILE; a checkout keeps one of its own in VAR_DIR (`manage.py
# make_keys`). Empty while the file is missing; push.checks reports it.
VAPID_PRIVATE_KEY_FILE = (
    None
    if os.environ.get("VAPID_PRIVATE_KEY")
    else Path(os.environ.get("VAPID_PRIVATE_KEY_FILE") or VAR_DIR / "vapid_private_key.pem")
)
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY") or key_file_text(VAPID_PRIVATE_KEY_FILE)
