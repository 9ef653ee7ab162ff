"""Writes for accounts: tokens, profile settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from oauth2_provider.models import get_application_model
from oauthlib import common
from oauthlib.oauth2.rfc6749.tokens import BearerToken
from oauth2_provider.settings import oauth2_settings

from core.errors import ApplicationError

from .models import User, service_account_stored_name

FIRST_PARTY_SCOPES = ["read", "write"]


def first_party_application_get_or_create():
    """The built-in client that Switchboard's own apps use to obtain tokens.

    It is public (no secret: it runs on the user's device) and it is the only client
    allowed the password grant.
    """
    Application = get_application_model()
    application, _created = Application.objects.get_or_create(
        client_id=settings.SWITCHBOARD_FIRST_PARTY_CLIENT_ID,
        defaults={
            "name": "Switchboard",
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_PASSWORD,
            "skip_authorization": True,
        },
    )
    return application


def token_issue_for_credentials(*, request: HttpRequest, username: str, password: str) -> dict:
    """Check a username and password and issue an OAuth2 token pair for the first-party client.

    Authentication goes through Django's backends with the real request, so failed
    attempts count towards the lockout of that username from that address.
    """
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise ApplicationError(_("The username or password is not correct."), code="unauthenticated")
    return token_issue_for_user(user=user, uri=request.build_absolute_uri())


def token_issue_for_user(*, user: User, uri: str = "/") -> dict:
    application = first_party_application_get_or_create()
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    kwargs = oauth2_settings.server_kwargs
    oauth_request = common.Request(uri, http_method="POST")
    oauth_request.user = user
    oauth_request.client = application
    oauth_request.client_id = application.client_id
    oauth_request.grant_type = "password"
    oauth_request.scopes = FIRST_PARTY_SCOPES
    oauth_request.refresh_token = None
    bearer = BearerToken(
        validator,
        token_generator=kwargs["token_generator"],
        expires_in=kwargs["token_expires_in"],
        refresh_token_generator=kwargs["refresh_token_generator"],
    )
    token = bearer.create_token(oauth_request, refresh_token=True)
    validator.save_bearer_token(token, oauth_request)
    return {
        "access_token": token["access_token"],
        "token_type": "Bearer",
        "expires_in": token["expires_in"],
        "refresh_token": token["refresh_token"],
        "scope": token["scope"],
    }


def user_update_preferences(
    *, user: User, language: str | None = None, hide_notification_previews: bool | None = None
) -> User:
    fields = []
    if language is not None:
        if language and language not in dict(settings.LANGUAGES):
            raise ApplicationError(_("That language is not available."), code="invalid")
        user.language = language
        fields.append("language")
    if hide_notification_previews is not None:
        user.hide_notification_previews = bool(hide_notification_previews)
        fields.append("hide_notification_previews")
    if fields:
        user.save(update_fields=fields)
    return user


def service_account_permit(username: str):
    """A conversation permit (see messaging.registry) for an app's service account: it may
    bring that app's messages to anyone."""

    def permit(a: User, b: User) -> bool:
        return a.is_service_account and a.username == username

    return permit


def service_account_get_or_create(*, username: str, display_name) -> User:
    """An account that an office app or an integration sends messages from; it cannot sign
    in. A lazily translated ``display_name`` is stored in English (see
    ``register_service_account_name``)."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"display_name": service_account_stored_name(display_name), "is_service_account": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def user_deactivate(*, user: User) -> User:
    """Switch an account off: it can no longer sign in, its tokens stop working at once, and
    (after commit, through ``events.user_credentials_changed``) its open connections close."""
    from django.db import transaction

    with transaction.atomic():
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        user_tokens_revoke(user_id=user.pk)
    return user


def user_tokens_revoke(*, user_id: int) -> None:
    """End every OAuth2 token of a user, for every client: refresh tokens are revoked,
    access tokens deleted. A password change or deactivation does this, so that a token
    got with the old password (or by whoever knew it) stops working with it."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    for refresh in get_refresh_token_model().objects.filter(user_id=user_id, revoked__isnull=True):
        refresh.revoke()
    get_access_token_model().objects.filter(user_id=user_id).delete()
