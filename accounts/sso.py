"""Which Switchboard account an identity from the company's OpenID Connect provider is.

The provider vouches for a person; Switchboard decides which account that person is, by
the claims in ``OIDC_LOGIN_MATCH`` tried in order (employee number, then email, by
default). Nothing is ever created or changed here: an identity that matches no account,
or more than one, is refused, and so is a deactivated account.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from django.utils.translation import gettext as _

from core.errors import ApplicationError

from .models import User

logger = logging.getLogger("switchboard.security")

#: The claims an identity can be matched by, and the account field each is compared with.
MATCH_LOOKUPS = {
    "employee_number": "employee_number",
    "email": "email__iexact",
}

# Signing in through the provider is the same as signing in with the password: the
# ModelBackend is the one that restores the user on later requests (and refuses inactive ones).
SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _claim_value(claims: Mapping[str, Any], claim: str) -> str | None:
    value = claims.get(claim)
    if not isinstance(value, str) or not value.strip():
        return None
    # A provider that says outright that an address is unverified cannot vouch with it.
    if claim == "email" and claims.get("email_verified") in (False, "false"):
        return None
    return value.strip()


def user_get_for_identity(*, claims: Mapping[str, Any], match: Sequence[str]) -> tuple[User, str]:
    """The one active account the identity's claims point to, and the claim that found it.

    Each claim in ``match`` is tried in order; the first that names any account decides:
    exactly one active account is the answer, several are ambiguous, and only deactivated
    ones mean a deactivated account. Service accounts never sign in, so they never match.
    """
    for claim in match:
        value = _claim_value(claims, claim)
        if value is None:
            continue
        candidates = list(User.objects.filter(is_service_account=False, **{MATCH_LOOKUPS[claim]: value})[:10])
        if not candidates:
            continue
        active = [user for user in candidates if user.is_active]
        if len(active) > 1:
            raise ApplicationError(
                _(
                    "More than one Switchboard account matches this identity, so you were not signed in. "
                    "Ask an administrator to correct the accounts."
                ),
                code="conflict",
            )
        if not active:
            raise ApplicationError(
                _("Your Switchboard account is deactivated. Ask an administrator if you need it again."),
                code="not_permitted",
            )
        return active[0], claim
    raise ApplicationError(
        _(
            "No Switchboard account matches this identity, so you were not signed in. "
            "Ask an administrator to add your employee number or email address to your account."
        ),
        code="not_found",
    )


def user_sign_in_with_identity(*, request: HttpRequest, claims: Mapping[str, Any], issuer: str) -> User:
    """Sign the request's browser in as the account the provider's identity matches.

    ``claims`` must come from an ID token that has already been verified (signature,
    issuer, audience, nonce, expiry). Refusals raise ``ApplicationError`` and are logged
    with the successes in the security log.
    """
    subject = claims.get("sub")
    address = get_client_ip_address(request)
    try:
        user, claim = user_get_for_identity(claims=claims, match=settings.OIDC_LOGIN_MATCH)
    except ApplicationError as error:
        logger.warning(
            "oidc login refused (%s): issuer=%s sub=%r address=%s", error.code, issuer, subject, address
        )
        raise
    login(request, user, backend=SESSION_BACKEND)
    logger.info(
        "oidc login: username=%r issuer=%s sub=%r matched_by=%s address=%s",
        user.username,
        issuer,
        subject,
        claim,
        address,
    )
    return user
