"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient


def _real_services() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config, items):
    """Tests that start server processes need PostgreSQL and Redis; on SQLite they are left
    out, visibly (pytest reports them as deselected), and make test runs them in its
    second pass."""
    if _real_services():
        return
    deselected = [item for item in items if item.get_closest_marker("services")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("services")]


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Hashing strength is not under test; the default hasher costs ~0.3 s a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files from the apps' folders, whatever a checkout's collectstatic left behind.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in the test's process, through Celery's machinery, whatever the broker."""
    from imsite.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _handovers_by_hand():
    """Search indexes and push notifies in a thread of their own (core.handover); in tests,
    what is stored waits until a test hands it over (``indexer.flush()``, or ``mode =
    "now"``), so that no thread writes to the test's database behind its back."""
    from push.services import pushes
    from search.indexer import indexer

    for handover in (indexer, pushes):
        handover.mode = "manual"
        handover.pending.clear()
    yield
    for handover in (indexer, pushes):
        handover.mode = "manual"
        handover.pending.clear()


@pytest.fixture
def demo(db):
    """The demo organisation (docs/architecture.md), as a dict of users by username."""
    from accounts.models import User
    from contacts.demo import demo_organisation_seed

    from django.test import TestCase

    # Run the seed's after-commit events (department conversations) inside the test's
    # transaction too.
    with TestCase.captureOnCommitCallbacks(execute=True):
        demo_organisation_seed()
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def api_for():
    """An API client authenticated as the given user (session-free, like a Bearer client)."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture(scope="session", autouse=True)
def _release_test_database(django_db_setup, django_db_blocker):
    """Let the test database be dropped at the end: close PostgreSQL's connection pool and
    end the sessions that socket tests left in their database threads."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor != "postgresql":
            return
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connection.close()


@pytest.fixture
def services_env():
    """The environment a server process needs to share this test's PostgreSQL and Redis."""
    from django.conf import settings
    from django.db import connection

    database = connection.settings_dict
    return {
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": ",".join(settings.REDIS_URLS),
        # The apps' own static files, not what an earlier `make run` collected.
        "STATIC_MANIFEST": "false",
        # Background work (search's indexing, pushes, announcements' batches) in the
        # worker's own process, as in the test's (_eager_celery): no Celery worker to run.
        # The tests of the Celery path start one and set this false.
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }


@pytest.fixture
def web_worker(services_env, tmp_path):
    """One real Daphne worker on this test's database and Redis."""
    from imsite.testing.servers import servers

    with servers(["web-1"], services_env, tmp_path) as (web,):
        yield web


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium under Playwright, resolving nothing beyond this machine."""
    from playwright.sync_api import sync_playwright

    from imsite.testing.browser import launch

    # Playwright's sync API keeps an event loop running in this thread; the test's own
    # ORM calls (making sessions) are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()




@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """In-process socket tests can end while the socket's database threads are mid-call;
    the connections those threads held never go back to PostgreSQL's pool, and once the
    pool is spent every later test waits for it (30 s each). After a test (its fixtures
    torn down) that left any out, the next test starts with a fresh pool."""
    yield
    from django.db import connection

    pool = connection._connection_pools.get(connection.alias) if connection.vendor == "postgresql" else None
    if pool is None or connection.in_atomic_block:
        return
    stats = pool.get_stats()
    held_here = connection.connection is not None
    if stats["pool_size"] - stats["pool_available"] > held_here:
        connection.close()
        connection.close_pool()
