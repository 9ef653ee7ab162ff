"""Messaging's subscriptions to other apps' domain events."""

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from accounts.events import user_credentials_changed
from contacts.events import department_people_changed

from .services import connections_close_all, connections_close_session, department_conversations_sync


@receiver(department_people_changed)
def _sync_department_conversations(*, department_ids=None, **kwargs) -> None:
    department_conversations_sync(department_ids=department_ids or None)


@receiver(user_credentials_changed)
def _close_connections(*, user_id: int, **kwargs) -> None:
    connections_close_all(user_id=user_id)


@receiver(user_logged_out)
def _close_signed_out_connections(*, request=None, user=None, **kwargs) -> None:
    # Sent before the session is flushed, so its key is still there to name it.
    session = getattr(request, "session", None)
    if user is not None and session is not None and session.session_key:
        connections_close_session(user_id=user.pk, session_key=session.session_key)
