"""Messaging's subscriptions to other apps' domain events."""

from django.dispatch import receiver

from accounts.events import user_deactivated
from contacts.events import department_people_changed

from .realtime import publish_to_users
from .services import department_conversations_sync


@receiver(department_people_changed)
def _sync_department_conversations(*, department_ids=None, **kwargs) -> None:
    department_conversations_sync(department_ids=department_ids or None)


@receiver(user_deactivated)
def _close_connections(*, user_id: int, **kwargs) -> None:
    """A deactivated account's sockets close now, not at their next authentication check."""
    publish_to_users([user_id], {"type": "connection.close"})
