"""The accounts' settings (core.conf): signing in with the company's OpenID Connect
provider (accounts.oidc_login, docs/sso.md) and the lockout after failed sign-ins.
accounts.checks judges the values."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from core.conf import Setting, integer, items, stripped, text


def _name(raw: str | None, default: str) -> str:
    return (raw or "").strip() or default


def _scopes(raw: str | None, default: list[str]) -> list[str]:
    return default if raw is None else raw.replace(",", " ").split()


def _minutes(raw: str | None, default: timedelta) -> timedelta:
    return timedelta(minutes=int(raw)) if raw else default


SETTINGS = [
    # Off while OIDC_LOGIN_ISSUER is empty. The returned identity is matched to an account
    # by the claims in OIDC_LOGIN_MATCH, in order.
    Setting("OIDC_LOGIN_ISSUER", stripped, "", "The provider's issuer URL; empty: no signing in with it."),
    Setting("OIDC_LOGIN_CLIENT_ID", stripped, "", "Switchboard's client id at the provider."),
    Setting("OIDC_LOGIN_CLIENT_SECRET", text, "", "Its secret; none means a public client (PKCE alone)."),
    Setting("OIDC_LOGIN_NAME", _name, _("your company account"), "The provider's name on the sign-in button."),
    Setting("OIDC_LOGIN_MATCH", items, ["employee_number", "email"], "The claims that find the account, in order."),
    Setting("OIDC_LOGIN_SCOPES", _scopes, ["openid", "profile", "email"], "The scopes asked for (openid among them)."),
    # Repeated failed sign-ins lock that username from that address for a while (django-axes).
    Setting("AXES_FAILURE_LIMIT", integer, 5, "Failed sign-ins before the lock.", env="LOGIN_FAILURE_LIMIT"),
    Setting(
        "AXES_COOLOFF_TIME", _minutes, timedelta(minutes=15), "How long the lock lasts, in minutes.",
        env="LOGIN_LOCKOUT_MINUTES",
    ),
]
