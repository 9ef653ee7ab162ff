"""The key that signs the OpenID Connect provider's ID tokens (``manage.py check``; every
worker runs the checks as it starts)."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def oidc_key_check(app_configs, **kwargs) -> list[Error]:
    provider = settings.OAUTH2_PROVIDER
    if not provider.get("OIDC_ENABLED") or provider.get("OIDC_RSA_PRIVATE_KEY"):
        return []
    return [
        Error(
            "No key to sign ID tokens: set OIDC_RSA_PRIVATE_KEY or OIDC_RSA_PRIVATE_KEY_FILE, "
            "or run `manage.py make_keys`.",
            hint=f"make_keys writes one to {settings.OIDC_RSA_PRIVATE_KEY_FILE}, where the settings read it.",
            id="integrations.E001",
        )
    ]
