"""Fixtures of core's tests."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from core import pwa
from core.templatetags import modules


@pytest.fixture
def collected(tmp_path):
    """The static files collected as a deployment does (hashed names), for the test."""
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        pwa.shell.cache_clear()
        modules.import_map.cache_clear()
        yield tmp_path
    pwa.shell.cache_clear()
    modules.import_map.cache_clear()
