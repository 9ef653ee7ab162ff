"""A per-user limit on reports of directly sent bytes, kept in the shared cache."""

from __future__ import annotations

from messaging.socket.ratelimit import CachedBucketThrottle, TokenBucket

# A client reports after each file and now and then for messages: a burst for a batch of
# files finishing together, then one report a second.
REPORT_BURST = 60
REPORT_PER_SECOND = 1.0


class P2PReportThrottle(CachedBucketThrottle):
    key_prefix = "p2p-report-bucket"
    new_bucket = staticmethod(lambda: TokenBucket(REPORT_BURST, REPORT_PER_SECOND))
