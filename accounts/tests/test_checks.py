"""Signing in with the company's provider is configured whole or not at all: the system
checks, which every worker runs as it starts, say what is missing."""

import pytest
from django.core.checks import run_checks

from core.conf import declared_settings

ISSUER = "https://id.example.com/realms/acme"


def configure(settings, **env):
    """The accounts' settings of this environment, read as imsite.settings reads them."""
    for name, value in declared_settings(["accounts"], env).items():
        setattr(settings, name, value)


def serious() -> list[tuple[str, str]]:
    return [(error.id, error.msg) for error in run_checks() if error.is_serious()]


def test_without_an_issuer_nothing_else_is_looked_at(settings):
    configure(settings, OIDC_LOGIN_MATCH="", OIDC_LOGIN_SCOPES="profile")
    assert serious() == []


def test_a_whole_configuration_passes(settings):
    configure(
        settings, OIDC_LOGIN_ISSUER=ISSUER, OIDC_LOGIN_CLIENT_ID="switchboard", OIDC_LOGIN_MATCH="email",
        OIDC_LOGIN_SCOPES="openid,email",
    )  # fmt: skip
    assert serious() == []


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, [("accounts.E001", "OIDC_LOGIN_ISSUER is set, so OIDC_LOGIN_CLIENT_ID is required.")]),
        (
            {"OIDC_LOGIN_CLIENT_ID": "switchboard", "OIDC_LOGIN_MATCH": ""},
            [("accounts.E002", "OIDC_LOGIN_MATCH must name employee_number and/or email.")],
        ),
        (
            {"OIDC_LOGIN_CLIENT_ID": "switchboard", "OIDC_LOGIN_MATCH": "email,username"},
            [("accounts.E002", "OIDC_LOGIN_MATCH must name employee_number and/or email.")],
        ),
        (
            {"OIDC_LOGIN_CLIENT_ID": "switchboard", "OIDC_LOGIN_SCOPES": "profile email"},
            [("accounts.E003", "OIDC_LOGIN_SCOPES must include openid.")],
        ),
    ],
)
def test_an_issuer_needs_a_client_known_claims_and_openid(settings, env, expected):
    configure(settings, OIDC_LOGIN_ISSUER=ISSUER, **env)
    assert serious() == expected
