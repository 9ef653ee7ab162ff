"""Token buckets: a burst allowance refilled at a steady rate."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle


class TokenBucket:
    __slots__ = ("capacity", "rate", "tokens", "stamp")

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        # Wall-clock time: a bucket kept in the shared cache is read on other machines.
        self.stamp = time.time()

    def take(self, cost: float = 1.0) -> bool:
        now = time.time()
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def wait_seconds(self, cost: float = 1.0) -> float:
        return max(0.0, (cost - self.tokens) / self.rate) if self.rate else 60.0


def send_bucket() -> TokenBucket:
    return TokenBucket(settings.MESSAGE_RATE_BURST, settings.MESSAGE_RATE_PER_SECOND)


class CachedBucketThrottle(BaseThrottle):
    """A per-user token bucket for REST clients, kept in the (shared) cache."""

    key_prefix: str
    # The limit: a function giving a full bucket (settings may change between calls).
    new_bucket: Callable[[], TokenBucket]

    def allow_request(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return True
        key = f"sb:{self.key_prefix}:{request.user.pk}"
        bucket = cache.get(key) or self.new_bucket()
        allowed = bucket.take()
        self._wait = bucket.wait_seconds()
        cache.set(key, bucket, timeout=600)
        return allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class MessageSendThrottle(CachedBucketThrottle):
    """The same send limit for REST clients as on the socket."""

    key_prefix = "send-bucket"
    new_bucket = staticmethod(send_bucket)
