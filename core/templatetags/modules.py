"""``{% importmap %}``: the web client's ES modules under their collected, hashed names.

A module imports its neighbours by relative path (``import { h } from './dom.js';``), which
the browser resolves to the plain name, ``/static/messaging/dom.js``. Once the static files
are collected (``STATIC_MANIFEST``), every file is served under a hashed name that may be
cached for ever; this import map sends each plain name to the hashed one, so that a module
is always loaded under one URL (one copy, one state) and a new release is never mixed with
a cached old one. Where files are not collected (tests, development) the map is empty and
the plain names are served.

Rewriting the imports inside the files instead (Django's
``support_js_module_import_aggregation``) would give every module a new name whenever any
module below it changes, and stops collectstatic outright the day two modules import each
other.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urljoin

from django import template
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.utils.html import json_script
from django.utils.safestring import mark_safe

register = template.Library()


def module_paths() -> list[str]:
    """The static paths of the project's own scripts, ``<app label>/….js`` for the apps in
    SWITCHBOARD_APPS."""
    labels = {apps.get_app_config(name.rsplit(".", 1)[-1]).label for name in settings.SWITCHBOARD_APPS}
    paths = set()
    for finder in finders.get_finders():
        for path, _storage in finder.list(["*.min.js"]):
            path = path.replace("\\", "/")
            if path.endswith(".js") and path.split("/", 1)[0] in labels:
                paths.add(path)
    return sorted(paths)


@lru_cache(maxsize=1)
def import_map() -> dict:
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return {"imports": {}}
    imports = {}
    for path in module_paths():
        try:
            hashed = staticfiles_storage.url(path)
        except ValueError:  # not collected
            continue
        plain = urljoin(staticfiles_storage.base_url, quote(path))
        if hashed != plain:
            imports[plain] = hashed
    return {"imports": imports}


@register.simple_tag
def importmap() -> str:
    """The page's import map; it must come before the first module script."""
    # json_script escapes <, > and &, so that nothing in a path can end the element.
    return mark_safe(json_script(import_map()).replace('type="application/json"', 'type="importmap"', 1))
