"""The announcements' settings (core.conf). A manager may always announce to the
departments they manage."""

from core.conf import Setting, integer, items

SETTINGS = [
    Setting(
        "ANNOUNCE_TO_EVERYONE_DEPARTMENTS", items, ["hr", "office"],
        "Codes of the departments whose members may announce to the whole company.",
    ),
    Setting("ANNOUNCEMENT_BATCH_SIZE", integer, 200, "Recipients per delivery task of a large announcement."),
]
