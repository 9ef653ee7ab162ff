"""The integrations' settings (core.conf). The OAuth2 provider's own settings, the key
that signs ID tokens among them, are the site's (imsite/settings/auth.py)."""

from core.conf import Setting, integer

SETTINGS = [
    # Each notification goes to up to 1,000 recipients; a client may have its own figure
    # (integrations.Client.notify_per_minute).
    Setting("NOTIFY_RATE_PER_MINUTE", integer, 60, "Notifications one integration may send a minute."),
]
