"""A small domain-event bus, so that office apps hear about each other without imports.

An app publishes ``"approval.finished"`` with a payload; another subscribes to that name
in its ``AppConfig.ready()``. Events are delivered after the publishing transaction
commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

Handler = Callable[[dict[str, Any]], None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if handler not in _subscribers[name]:
            _subscribers[name].append(handler)
        return handler

    return register


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def publish_on_commit(name: str, payload: dict[str, Any]) -> None:
    # Each subscriber on its own: one failing (it is logged) does not stop the others.
    for handler in list(_subscribers[name]):
        transaction.on_commit(lambda handler=handler: handler(dict(payload)), robust=True)
