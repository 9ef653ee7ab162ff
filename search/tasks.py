"""Search's Celery task: index messages in a Celery worker, off the web workers."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_init
from django.db import OperationalError

from .indexer import documents_update


@shared_task(
    name="search.tasks.index_messages",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def index_messages(ids: list[int]) -> int:
    """Index these messages as they stand now (search.indexer.documents_update)."""
    return documents_update(pk for pk in ids if isinstance(pk, int))


@worker_init.connect
def _dictionary_load(**_kwargs) -> None:
    # The dictionary takes a second or two to read: read it once in the worker's main
    # process, before its pool forks, rather than in the first message's second.
    from .text import tokenizer

    tokenizer()
