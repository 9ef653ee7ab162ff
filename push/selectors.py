"""Reads for Web Push."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User

from .models import PushSubscription


def subscription_list_for_user(*, user: User) -> QuerySet[PushSubscription]:
    """My own devices, oldest first."""
    return PushSubscription.objects.filter(user=user).order_by("created_at", "pk")
