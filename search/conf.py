"""Message search's settings (core.conf): what one person's searches may cost."""

from core.conf import Setting, integer, number

SETTINGS = [
    Setting("SEARCH_RATE_BURST", integer, 20, "Searches one person may make at once."),
    Setting("SEARCH_RATE_PER_SECOND", number, 1.0, "Searches a second one person may keep making."),
    # A search that runs longer is stopped and answered 503 ``timeout``.
    Setting("SEARCH_TIMEOUT_MS", integer, 3000, "How long one search may run, in milliseconds."),
]
