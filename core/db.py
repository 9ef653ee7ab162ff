"""Calling the ORM from async code (consumers, presence, the socket's authentication)."""

from channels.db import database_sync_to_async
from django.conf import settings


def db(func):
    """``database_sync_to_async`` with this deployment's threading.

    On PostgreSQL the calls run in a pool of threads, each with its own connection, so one
    slow query does not hold up every socket of the worker. SQLite takes one writer at a
    time anyway, so there they share Django's single sync thread.
    """
    return database_sync_to_async(func, thread_sensitive=settings.DB_THREAD_SENSITIVE)
