"""Reads for accounts."""

from __future__ import annotations

import hashlib

from oauth2_provider.models import AccessToken

from contacts.selectors import primary_department_for_user

from .models import User


def user_profile(*, user: User) -> dict:
    department = primary_department_for_user(user=user)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.name,
        "email": user.email,
        "employee_number": user.employee_number,
        "title": user.title,
        "phone": user.phone,
        "language": user.language,
        "department": (
            {"id": department.id, "code": department.code, "name": department.name}
            if department
            else None
        ),
        "is_staff": user.is_staff,
    }


def user_for_access_token(token: str) -> User | None:
    """The active user a valid, unexpired OAuth2 access token belongs to (not a client's token)."""
    access_token = (
        AccessToken.objects.select_related("user")
        .filter(token_checksum=hashlib.sha256(token.encode()).hexdigest())
        .first()
    )
    if access_token is None or access_token.is_expired() or access_token.user is None:
        return None
    return access_token.user if access_token.user.is_active else None
