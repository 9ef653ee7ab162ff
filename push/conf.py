"""Web Push's settings (core.conf). The VAPID key itself is the site's, beside the other
keys (imsite/settings/services.py: VAPID_PRIVATE_KEY, VAPID_PRIVATE_KEY_FILE)."""

from core.conf import Setting, boolean, integer, items, stripped

SETTINGS = [
    Setting(
        "VAPID_SUBJECT", stripped, "mailto:admin@localhost",
        "Who runs this site, for the push services (the VAPID `sub`): a mailto: or https: URI they can reach.",
    ),
    Setting("PUSH_COLLAPSE_SECONDS", integer, 10, "At most one push per conversation and person in this many seconds."),
    Setting("PUSH_TTL_SECONDS", integer, 24 * 3600, "How long a push service keeps a push for a device that is away."),
    Setting("PUSH_TIMEOUT_SECONDS", integer, 10, "How long a request to a push service may take."),
    Setting("PUSH_MAX_SUBSCRIPTIONS", integer, 10, "Devices one person may subscribe; a new one drops the oldest."),
    Setting("PUSH_MAX_FAILURES", integer, 5, "Failed pushes in a row after which a device's subscription is dropped."),
    Setting(
        "PUSH_ENDPOINT_HOSTS", items,
        ["fcm.googleapis.com", "*.push.services.mozilla.com", "*.notify.windows.com", "*.push.apple.com"],
        "The push services' hosts a subscription may name (`*.` a suffix; `*` any public host).",
    ),
    Setting(
        "PUSH_ALLOW_HTTP_LOOPBACK", boolean, False,
        "Accept http:// push endpoints on 127.0.0.1 and localhost (tests); otherwise only https://.",
    ),
]
