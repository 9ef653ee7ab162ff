"""Signing in with the company's OpenID Connect provider is configured whole or not at all
(``manage.py check``; every worker runs the checks as it starts)."""

from django.conf import settings
from django.core.checks import Error, register

CLAIMS = {"employee_number", "email"}


@register()
def oidc_login_check(app_configs, **kwargs) -> list[Error]:
    if not settings.OIDC_LOGIN_ISSUER:
        return []
    errors = []
    if not settings.OIDC_LOGIN_CLIENT_ID:
        errors.append(Error("OIDC_LOGIN_ISSUER is set, so OIDC_LOGIN_CLIENT_ID is required.", id="accounts.E001"))
    if not settings.OIDC_LOGIN_MATCH or not set(settings.OIDC_LOGIN_MATCH) <= CLAIMS:
        errors.append(Error("OIDC_LOGIN_MATCH must name employee_number and/or email.", id="accounts.E002"))
    if "openid" not in settings.OIDC_LOGIN_SCOPES:
        errors.append(Error("OIDC_LOGIN_SCOPES must include openid.", id="accounts.E003"))
    return errors
