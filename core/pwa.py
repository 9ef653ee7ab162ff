"""The installable app (docs/mobile.md): the web app manifest and the application shell
that the service worker keeps.

The shell is every script, stylesheet and picture in the static folders of Switchboard's
own apps (SWITCHBOARD_APPS), under the URLs the pages load them by (hashed once the static
files are collected), and the offline page. Its version is a digest of those files and of
the templates behind the service worker and the offline page, computed once per process:
every worker of one release computes the same, and a release that changes any of them
gives the service worker new bytes, which the browser installs in place of the old one.
The chat page names the version it was made with (SHELL_HEADER), so that the service
worker keeps it to open offline with the static files of the same release.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.staticfiles.finders import AppDirectoriesFinder
from django.contrib.staticfiles.storage import staticfiles_storage
from django.contrib.staticfiles.utils import get_files
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _

# core/static/css/switchboard.css: --surface, the top bar that the browser's own bar sits
# on, and --bg, the page behind everything (the splash screen while the app starts).
THEME_COLOR = "#ffffff"
BACKGROUND_COLOR = "#f4f6fa"

# core/static/icons/, drawn by scripts/make_icons.py: (static path, size, purpose).
ICONS = [
    ("icons/icon-192.png", 192, "any"),
    ("icons/icon-512.png", 512, "any"),
    ("icons/icon-maskable-192.png", 192, "maskable"),
    ("icons/icon-maskable-512.png", 512, "maskable"),
]
APPLE_TOUCH_ICON = "icons/apple-touch-icon.png"

SHELL_SUFFIXES = {".js", ".css", ".png", ".svg"}
# The header naming the release (the shell's version) a page was made by: the service
# worker serves the chat page it keeps offline only while it is of the same release, whose
# static files it holds.
SHELL_HEADER = "X-Switchboard-Shell"
# The templates whose output the service worker keeps or is.
SHELL_TEMPLATES = ["core/sw.js", "core/offline.html", "base.html", "core/app_head.html"]


def manifest() -> dict:
    """The web app manifest, in the language of the request being answered."""
    start = reverse("chat")
    return {
        "id": start,
        "name": "Switchboard",
        "short_name": "Switchboard",
        "description": _("Office messaging: chat with colleagues, approvals, attendance and announcements."),
        "lang": get_language(),
        "dir": "rtl" if get_language_bidi() else "ltr",
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "categories": ["business", "productivity"],
        "icons": [
            {"src": static(path), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
            for path, size, purpose in ICONS
        ],
        "shortcuts": [
            {"name": _("Chat"), "url": start},
            {"name": _("Approvals"), "url": reverse("approvals:list")},
            {"name": _("Attendance"), "url": reverse("attendance:month")},
        ],
    }


@dataclass(frozen=True)
class Shell:
    version: str
    #: the static files' URLs, as the pages ask for them
    urls: tuple[str, ...]


def shell_paths() -> list[tuple[str, bytes]]:
    """The static path and content of every file of the shell, in a stable order."""
    finder = AppDirectoriesFinder()
    files = {}
    for app_name, storage in finder.storages.items():
        if app_name not in settings.SWITCHBOARD_APPS:
            continue
        for path in get_files(storage):
            if PurePosixPath(path).suffix in SHELL_SUFFIXES:
                with storage.open(path) as f:
                    files[path] = f.read()
    return sorted(files.items())


def version_of(files: list[tuple[str, bytes]], templates: list[str]) -> str:
    digest = hashlib.sha256()
    for path, content in files:
        digest.update(path.encode() + b"\0" + hashlib.sha256(content).digest())
    for source in templates:
        digest.update(hashlib.sha256(source.encode()).digest())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def shell() -> Shell:
    files = shell_paths()
    templates = [get_template(name).template.source for name in SHELL_TEMPLATES]
    return Shell(
        version=version_of(files, templates),
        urls=tuple(staticfiles_storage.url(path) for path, _content in files),
    )
