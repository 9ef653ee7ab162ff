"""The address book's settings (core.conf)."""

from core.conf import Setting, text

SETTINGS = [
    # Swappable like django-oauth-toolkit's validators.
    Setting(
        "SWITCHBOARD_POLICY_CLASS", text, "contacts.policy.RulePolicy",
        "The class that decides who may see and talk to whom.",
    ),
]
