"""Pushes go out through Celery: one task per batch of recipients of a message, and the
follow-up at the end of a collapse window (push.delivery)."""

from celery import shared_task

from messaging.models import ConversationMember, Message

from . import delivery
from .models import PushSubscription

BATCH = 200


@shared_task(name="push.tasks.messages_notify")
def messages_notify(message_ids: list[int]) -> int:
    """Messaging stored these messages: for each, its members who have a device subscribed
    (the sender aside), in batches of their own."""
    messages = list(
        Message.objects.filter(pk__in=message_ids, recalled_at__isnull=True).values_list("pk", "conversation_id", "sender_id")
    )
    if not messages:
        return 0
    members: dict[int, list[int]] = {}
    for conversation_id, user_id in ConversationMember.objects.filter(
        conversation_id__in={conversation for _pk, conversation, _sender in messages},
        user_id__in=PushSubscription.objects.values("user_id"),
    ).values_list("conversation_id", "user_id"):
        members.setdefault(conversation_id, []).append(user_id)
    batches = 0
    for pk, conversation_id, sender_id in messages:
        recipients = sorted(uid for uid in members.get(conversation_id, ()) if uid != sender_id)
        for start in range(0, len(recipients), BATCH):
            notify.delay(pk, recipients[start : start + BATCH])
            batches += 1
    return batches


@shared_task(name="push.tasks.notify")
def notify(message_id: int, user_ids: list[int]) -> int:
    return delivery.message_notify(message_id, user_ids)


@shared_task(name="push.tasks.followup")
def followup(user_id: int, conversation_id: int) -> bool:
    return delivery.followup(user_id, conversation_id)
