"""The realtime leg: how an event reaches every connection of the people it is for.

    a service, after commit -> publish.py   one publish API: serialise once, hand to the loop
      -> wire.py              batches to the group of worker listeners (Redis) or the layer
      -> dispatch.py          each worker's listener: the event to its own connections
      -> socket/consumer.py   the frame on the socket
    presence.py  who is online, and on which worker (the paper's Information Servers)
"""

from .publish import (
    event,
    publish_app_event_on_commit,
    publish_many,
    publish_on_commit,
    publish_to_users,
    publish_to_users_async,
)

__all__ = [
    "event",
    "publish_app_event_on_commit",
    "publish_many",
    "publish_on_commit",
    "publish_to_users",
    "publish_to_users_async",
]
