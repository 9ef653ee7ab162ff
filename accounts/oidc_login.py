"""Signing in with the company's OpenID Connect provider: the protocol and the pages.

Authlib does the protocol: discovery at ``<issuer>/.well-known/openid-configuration``,
the authorization code flow with PKCE (S256), state and nonce kept in the session, the
code exchange, and the ID token's verification (signature against the provider's JWKS,
issuer, audience, nonce, expiry). ``accounts.sso`` decides which account the verified
identity is. Whatever goes wrong with the provider ends on the sign-in page with a plain
sentence, never an error page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.django_client import OAuth, OAuthError
from authlib.integrations.base_client import MismatchingStateError
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from joserfc.errors import JoseError

from core.errors import ApplicationError

from .sso import user_sign_in_with_identity

logger = logging.getLogger("switchboard.security")

# The sign-in page shows this once, after a sign-in through the provider was refused.
ERROR_SESSION_KEY = "oidc_login_error"
NEXT_SESSION_KEY = "oidc_login_next"
# A provider that does not answer must not hold a request (and a worker thread) for long.
PROVIDER_TIMEOUT_SECONDS = 10
# Everything the provider's answers (or silence) can raise in Authlib and requests:
# refusals, bad state, invalid tokens, unreachable hosts, malformed documents.
PROVIDER_ERRORS = (OAuthError, JoseError, requests.RequestException, ValueError, KeyError, RuntimeError)


class ProviderError(Exception):
    """The provider could not be used, or its answer cannot be trusted."""


def oidc_login_enabled() -> bool:
    return bool(settings.OIDC_LOGIN_ISSUER)


def discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


_clients: dict[tuple, Any] = {}


def _client():
    """The Authlib client for the configured provider; it keeps the discovery document and
    the provider's keys once fetched (and fetches the keys again for an unknown key id)."""
    key = (
        settings.OIDC_LOGIN_ISSUER,
        settings.OIDC_LOGIN_CLIENT_ID,
        settings.OIDC_LOGIN_CLIENT_SECRET,
        tuple(settings.OIDC_LOGIN_SCOPES),
    )
    client = _clients.get(key)
    if client is None:
        client_kwargs = {
            "scope": " ".join(settings.OIDC_LOGIN_SCOPES),
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT_SECONDS,
        }
        if not settings.OIDC_LOGIN_CLIENT_SECRET:  # a public client: PKCE alone
            client_kwargs["token_endpoint_auth_method"] = "none"
        client = OAuth().register(
            "oidc_login",
            client_id=settings.OIDC_LOGIN_CLIENT_ID,
            client_secret=settings.OIDC_LOGIN_CLIENT_SECRET or None,
            server_metadata_url=discovery_url(settings.OIDC_LOGIN_ISSUER),
            client_kwargs=client_kwargs,
        )
        _clients[key] = client
    return client


def _provider_metadata(client) -> dict:
    metadata = client.load_server_metadata()
    # OpenID Connect Discovery §4.3: the document must be the configured issuer's own, or
    # one provider could pass off its tokens as another's.
    if str(metadata.get("issuer", "")).rstrip("/") != settings.OIDC_LOGIN_ISSUER.rstrip("/"):
        raise ProviderError(f"the discovery document names issuer {metadata.get('issuer')!r}")
    return metadata


def _verified_identity(request: HttpRequest) -> tuple[dict, str]:
    """The claims of the provider's verified ID token for this callback, and the issuer.

    If the ID token lacks a claim that accounts are matched by, the userinfo endpoint may
    supply it, but only for the same subject and never overriding the ID token.
    """
    client = _client()
    metadata = _provider_metadata(client)
    issuer = metadata["issuer"]
    token = client.authorize_access_token(
        request,
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client.client_id},
        },
    )
    if not token.get("userinfo"):
        raise ProviderError("the provider returned no ID token")
    claims = dict(token["userinfo"])
    if metadata.get("userinfo_endpoint") and any(claim not in claims for claim in settings.OIDC_LOGIN_MATCH):
        userinfo = client.userinfo(token=token)
        if userinfo.get("sub") == claims.get("sub"):
            for name, value in userinfo.items():
                claims.setdefault(name, value)
    return claims, issuer


def _safe_next(request: HttpRequest, url: str | None) -> str:
    allowed_hosts = {request.get_host()}
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=allowed_hosts, require_https=request.is_secure()):
        return url
    return ""


def _back_to_sign_in(request: HttpRequest, message: str, next_url: str = "") -> HttpResponse:
    request.session[ERROR_SESSION_KEY] = str(message)
    url = reverse("login")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return redirect(url)


def _could_not_reach() -> str:
    return _("Could not reach %(name)s. Try again later, or sign in with your password.") % {
        "name": settings.OIDC_LOGIN_NAME
    }


@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the provider to sign in, remembering where it was going."""
    if not oidc_login_enabled():
        raise Http404
    next_url = _safe_next(request, request.GET.get("next"))
    try:
        client = _client()
        _provider_metadata(client)
        response = client.authorize_redirect(request, request.build_absolute_uri(reverse("oidc-callback")))
    except (ProviderError, *PROVIDER_ERRORS) as error:
        logger.warning("oidc login: provider unavailable: %s", error)
        return _back_to_sign_in(request, _could_not_reach(), next_url)
    request.session[NEXT_SESSION_KEY] = next_url
    return response


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code (or an error)."""
    if not oidc_login_enabled():
        raise Http404
    next_url = _safe_next(request, request.session.pop(NEXT_SESSION_KEY, ""))
    name = settings.OIDC_LOGIN_NAME
    try:
        claims, issuer = _verified_identity(request)
    except MismatchingStateError:
        logger.warning("oidc login refused: unknown or expired state")
        return _back_to_sign_in(
            request,
            _("This sign-in was not started in this browser, or it took too long. Please start again."),
            next_url,
        )
    except OAuthError as error:
        logger.warning("oidc login refused by the provider: %s %s", error.error, error.description or "")
        if error.error == "access_denied":
            message = _("Signing in with %(name)s was cancelled.") % {"name": name}
        else:
            message = _("Signing in with %(name)s did not work. Please try again.") % {"name": name}
        return _back_to_sign_in(request, message, next_url)
    except requests.RequestException as error:
        logger.warning("oidc login: provider unavailable: %s", error)
        return _back_to_sign_in(request, _could_not_reach(), next_url)
    except (ProviderError, *PROVIDER_ERRORS) as error:
        logger.warning("oidc login refused: %s: %s", type(error).__name__, error)
        return _back_to_sign_in(
            request, _("Signing in with %(name)s did not work. Please try again.") % {"name": name}, next_url
        )
    try:
        user_sign_in_with_identity(request=request, claims=claims, issuer=issuer)
    except ApplicationError as error:
        return _back_to_sign_in(request, error.detail, next_url)
    return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


class LoginView(auth_views.LoginView):
    """Django's sign-in page, offering the company's provider too when one is configured."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if oidc_login_enabled():
            url = reverse("oidc-login")
            if context.get("next"):
                url += "?" + urlencode({"next": context["next"]})
            context["oidc_login"] = {"name": settings.OIDC_LOGIN_NAME, "url": url}
        context["oidc_login_error"] = self.request.session.pop(ERROR_SESSION_KEY, None)
        return context
