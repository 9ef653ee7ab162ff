"""Signing in and tokens: Django's authentication, django-axes, the OAuth2 and OpenID
Connect provider (django-oauth-toolkit) and the REST API. The OpenID Connect sign-in and
the lockout's figures are the accounts app's settings (accounts/conf.py)."""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from core.conf import env_bool, env_int

from .base import DEBUG, VAR_DIR, key_file_text

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any other backend runs.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Repeated failed logins lock that username from that address for a while
# (AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME: accounts/conf.py).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --- OAuth2 (django-oauth-toolkit) ----------------------------------------------------
# The RSA key that signs ID tokens: OIDC_RSA_PRIVATE_KEY (PEM) or the file named by
# OIDC_RSA_PRIVATE_KEY_FILE; a checkout keeps one of its own in VAR_DIR.
OIDC_RSA_PRIVATE_KEY_FILE = (
    None
    if os.environ.get("OIDC_RSA_PRIVATE_KEY")
    else Path(os.environ.get("OIDC_RSA_PRIVATE_KEY_FILE") or VAR_DIR / "oidc_rsa_key.pem")
)

SWITCHBOARD_FIRST_PARTY_CLIENT_ID = "switchboard-first-party"
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": min(env_int("ACCESS_TOKEN_EXPIRE_SECONDS", 900), 900),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("REFRESH_TOKEN_EXPIRE_SECONDS", 14 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    # OAuth 2.0 Security BCP (RFC 9700): no implicit or password grant at /o/token/ (the
    # first-party token endpoint issues its own), S256 only, tokens only in headers,
    # hashed token storage, `iss` in authorisation responses.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # Plain-http redirect URIs only where the site itself is plain http (development,
    # `make run`, tests), unless OAUTH_ALLOW_HTTP_REDIRECTS says otherwise.
    "ALLOWED_REDIRECT_URI_SCHEMES": (
        ["http", "https"]
        if env_bool("OAUTH_ALLOW_HTTP_REDIRECTS", DEBUG or not env_bool("SECURE", not DEBUG))
        else ["https"]
    ),
    "SCOPES": {
        "read": _("Read your messages and contacts"),
        "write": _("Send messages as you"),
        "openid": _("Confirm who you are"),
        "profile": _("See your name, employee number, department and title"),
        "email": _("See your email address"),
        "notify": _("Send notifications to employees"),
        "directory:read": _("Read the company directory"),
        "scim": _("Create, change and deactivate accounts and departments"),
    },
    "DEFAULT_SCOPES": ["read", "write"],
    # Each client gets only the scopes it was registered with (integrations.Client).
    "SCOPES_BACKEND_CLASS": "integrations.oauth.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "integrations.oauth.Validator",
    "OIDC_ENABLED": True,
    # Empty while the key file is missing; integrations.checks reports it.
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("OIDC_RSA_PRIVATE_KEY") or key_file_text(OIDC_RSA_PRIVATE_KEY_FILE),
    "OIDC_ISS_ENDPOINT": os.environ.get("OIDC_ISSUER", ""),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first: its WWW-Authenticate header turns anonymous requests into 401s.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "core.api.TokenScopePermission",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "REST API of the Switchboard office messaging platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Serve Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
