"""Reads for accounts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from oauth2_provider.models import AccessToken

from .models import User

# What other apps add to a person's profile, by key (the address book adds "department"),
# each a function of the user, registered from the app's AppConfig.ready().
_profile_parts: dict[str, Callable[[User], Any]] = {}


def register_profile_part(key: str, part: Callable[[User], Any]) -> None:
    _profile_parts[key] = part


# What other apps add to the settings page (push: this person's devices), each a template
# and a function of the request that gives its context, registered from the app's
# AppConfig.ready().
_settings_sections: list[tuple[str, Callable[[Any], dict]]] = []


def register_settings_section(template: str, context: Callable[[Any], dict]) -> None:
    if (template, context) not in _settings_sections:
        _settings_sections.append((template, context))


def settings_sections(request) -> list[dict]:
    """The other apps' sections of the settings page: each its template and context."""
    return [{"template": template, "context": context(request)} for template, context in _settings_sections]


def user_profile(*, user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.name,
        "email": user.email,
        "employee_number": user.employee_number,
        "title": user.title,
        "phone": user.phone,
        "language": user.language,
        **{key: part(user) for key, part in _profile_parts.items()},
        "is_staff": user.is_staff,
    }


def access_token_get_valid(token: str) -> AccessToken | None:
    """A valid, unexpired OAuth2 access token of an active user (not a client's own token)."""
    access_token = (
        AccessToken.objects.select_related("user")
        .filter(token_checksum=hashlib.sha256(token.encode()).hexdigest())
        .first()
    )
    if access_token is None or access_token.is_expired() or access_token.user is None:
        return None
    return access_token if access_token.user.is_active else None


def session_tag(session_key: str) -> str:
    """A name for a browser session that events between workers can carry (the session
    key itself is a credential)."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def connection_user_get_valid(
    *, user_id: int, session_key: str | None = None, token_id: int | None = None
) -> User | None:
    """The user of a long-lived connection, if they may still use it: active; for a
    browser, with a session that still exists and was made under their current password;
    for a Bearer client, with its token not revoked since."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import constant_time_compare

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    if token_id is not None:
        return user if AccessToken.objects.filter(pk=token_id, user_id=user_id).exists() else None
    if session_key is None:
        return user
    session = Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now()).first()
    data = session.get_decoded() if session else {}
    if str(data.get(SESSION_KEY)) != str(user_id):
        return None
    return user if constant_time_compare(data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()) else None
