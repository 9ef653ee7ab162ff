"""How the OAuth2/OIDC provider treats clients: scopes per client, grants per client, claims.

Switchboard's own first-party client keeps ``read``/``write`` and the password grant; a
registered integration may have only the scopes it was registered with, and may use the
authorization code grant (with PKCE, when it has redirect URIs) and client credentials
(when it is confidential). A revoked integration can do neither.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from oauth2_provider.views import ConnectDiscoveryInfoView
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes

from accounts.services import FIRST_PARTY_SCOPES

from .models import CLIENT_SCOPES, Client


def _integration(application) -> Client | None:
    if application is None:
        return None
    try:
        return application.integration
    except Client.DoesNotExist:
        return None


class ClientScopes(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:  # the discovery document: what integrations may ask for
            return list(CLIENT_SCOPES)
        if application.client_id and application.client_id == settings.SWITCHBOARD_FIRST_PARTY_CLIENT_ID:
            return list(FIRST_PARTY_SCOPES)
        integration = _integration(application)
        if integration is None or integration.revoked_at is not None:
            return []
        return [scope for scope in integration.scopes if scope in settings.OAUTH2_PROVIDER["SCOPES"]]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


class Validator(OAuth2Validator):
    # The claims each scope releases (OpenID Connect Core §5.4), plus Switchboard's own.
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "employee_number": "profile",
        "department": "profile",
        "title": "profile",
    }

    def validate_client_id(self, client_id, request, *args, **kwargs):
        if not super().validate_client_id(client_id, request, *args, **kwargs):
            return False
        integration = _integration(request.client)
        return integration is None or integration.revoked_at is None

    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        integration = _integration(request.client)
        return integration is None or integration.revoked_at is None

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        integration = _integration(client)
        if integration is not None and grant_type == "client_credentials":
            # An integration's server may also act as itself, when it can keep a secret.
            return integration.revoked_at is None and client.client_type == client.CLIENT_CONFIDENTIAL
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def get_discovery_claims(self, request):
        return ["sub", "name", "preferred_username", "locale", "email", "email_verified", "employee_number", "department", "title"]

    def get_additional_claims(self, request):
        from contacts.selectors import primary_department_for_user

        user = request.user
        department = primary_department_for_user(user=user)
        claims = {
            "name": user.display_name or user.get_full_name() or user.username,
            "preferred_username": user.username,
            "locale": user.language or settings.LANGUAGE_CODE,
            "employee_number": user.employee_number or None,
            "department": department.code if department else None,
            "title": user.title or None,
        }
        if user.email:
            claims.update(email=user.email, email_verified=True)
        return claims


class DiscoveryView(ConnectDiscoveryInfoView):
    """OpenID Connect discovery, naming the introspection and revocation endpoints too."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            introspection_endpoint=request.build_absolute_uri(reverse("oauth2_provider:introspect")),
            revocation_endpoint=request.build_absolute_uri(reverse("oauth2_provider:revoke-token")),
            grant_types_supported=["authorization_code", "refresh_token", "client_credentials"],
            introspection_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            revocation_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )
        if settings.OAUTH2_PROVIDER.get("OIDC_ISS_ENDPOINT"):
            base = settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"].rstrip("/")
            data["introspection_endpoint"] = f"{base}/introspect/"
            data["revocation_endpoint"] = f"{base}/revoke_token/"
        patched = JsonResponse(data)
        patched["Access-Control-Allow-Origin"] = "*"
        return patched
