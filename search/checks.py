"""Search's limits are usable, or the site does not start (``manage.py check``; every
worker runs the checks as it starts): a zero rate or timeout would refuse every search."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def search_limits_check(app_configs, **kwargs) -> list[Error]:
    errors = []
    if not settings.SEARCH_RATE_BURST >= 1:
        errors.append(Error("SEARCH_RATE_BURST must be at least 1.", id="search.E001"))
    if not settings.SEARCH_RATE_PER_SECOND > 0:
        errors.append(Error("SEARCH_RATE_PER_SECOND must be a positive number.", id="search.E002"))
    if not settings.SEARCH_TIMEOUT_MS >= 1:
        errors.append(Error("SEARCH_TIMEOUT_MS must be a positive number of milliseconds.", id="search.E003"))
    return errors
