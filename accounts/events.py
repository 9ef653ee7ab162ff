"""Domain events of accounts, for other apps to react to."""

from django.dispatch import Signal

# Sent after commit when a user is deactivated (user_id=...): their live connections close.
user_deactivated = Signal()
