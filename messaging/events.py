"""Messaging's subscriptions to other apps' domain events."""

from django.dispatch import receiver

from contacts.events import department_people_changed

from .services import department_conversations_sync


@receiver(department_people_changed)
def _sync_department_conversations(*, department_ids=None, **kwargs) -> None:
    department_conversations_sync(department_ids=department_ids or None)
