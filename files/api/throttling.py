"""A per-user limit on reports of directly sent bytes, kept in the shared cache."""

from __future__ import annotations

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from messaging.ratelimit import TokenBucket

# A client reports after each file and now and then for messages: a burst for a batch of
# files finishing together, then one report a second.
REPORT_BURST = 60
REPORT_PER_SECOND = 1.0


class P2PReportThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return True
        key = f"sb:p2p-report-bucket:{request.user.pk}"
        bucket = cache.get(key) or TokenBucket(REPORT_BURST, REPORT_PER_SECOND)
        allowed = bucket.take()
        self._wait = bucket.wait_seconds()
        cache.set(key, bucket, timeout=600)
        return allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
