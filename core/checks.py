"""The site's secret key (``manage.py check``; every worker runs the checks as it starts)."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def secret_key_check(app_configs, **kwargs) -> list[Error]:
    try:
        settings.SECRET_KEY  # noqa: B018 (Django refuses an empty one when it is read)
    except ImproperlyConfigured:
        return [
            Error(
                "No secret key: set SECRET_KEY or run `manage.py make_keys`.",
                hint=f"make_keys writes one to {settings.SECRET_KEY_FILE}, where the settings read it.",
                id="core.E001",
            )
        ]
    return []
