"""Writes for the address book."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError

from . import policy
from .models import FriendRequest


def _user_get_active(*, user_id: int) -> User:
    user = User.objects.filter(id=user_id, is_active=True).first()
    if user is None:
        raise ApplicationError(_("No such person."), code="not_found")
    return user


@transaction.atomic
def friend_request_send(*, from_user: User, to_user_id: int, message: str = "") -> FriendRequest:
    """Ask someone anywhere in the company to become a contact.

    When they have already asked us, that request is accepted instead: both sides want it.
    """
    if to_user_id == from_user.id:
        raise ApplicationError(_("You cannot send a friend request to yourself."), code="self_request")
    to_user = _user_get_active(user_id=to_user_id)
    if policy.get_policy().are_friends(from_user, to_user):
        raise ApplicationError(
            _("You and %(name)s are already friends.") % {"name": to_user.name},
            code="already_friends",
        )
    pending = FriendRequest.objects.select_for_update().filter(status=FriendRequest.Status.PENDING)
    if pending.filter(from_user=from_user, to_user=to_user).exists():
        raise ApplicationError(
            _("You have already asked %(name)s; wait for their answer.") % {"name": to_user.name},
            code="duplicate",
        )
    theirs = pending.filter(from_user=to_user, to_user=from_user).first()
    if theirs is not None:
        return _friend_request_answer(friend_request=theirs, status=FriendRequest.Status.ACCEPTED)
    try:
        with transaction.atomic():
            return FriendRequest.objects.create(
                from_user=from_user, to_user=to_user, message=message.strip()
            )
    except IntegrityError as exc:  # a concurrent identical request won the race
        raise ApplicationError(
            _("You have already asked %(name)s; wait for their answer.") % {"name": to_user.name},
            code="duplicate",
        ) from exc


def _friend_request_answer(*, friend_request: FriendRequest, status: str) -> FriendRequest:
    friend_request.status = status
    friend_request.responded_at = timezone.now()
    friend_request.save(update_fields=["status", "responded_at"])
    return friend_request


def _friend_request_get_for_recipient(*, user: User, request_id: int) -> FriendRequest:
    friend_request = (
        FriendRequest.objects.select_for_update()
        .select_related("from_user", "to_user")
        .filter(id=request_id)
        .first()
    )
    if friend_request is None or user.id not in (friend_request.from_user_id, friend_request.to_user_id):
        raise ApplicationError(_("No such friend request."), code="not_found")
    if friend_request.to_user_id != user.id:
        raise ApplicationError(
            _("Only the person who received a friend request can answer it."), code="not_permitted"
        )
    if friend_request.status != FriendRequest.Status.PENDING:
        raise ApplicationError(
            _("This friend request was already answered."), code="not_pending", status=409
        )
    return friend_request


@transaction.atomic
def friend_request_accept(*, user: User, request_id: int) -> FriendRequest:
    friend_request = _friend_request_get_for_recipient(user=user, request_id=request_id)
    return _friend_request_answer(friend_request=friend_request, status=FriendRequest.Status.ACCEPTED)


@transaction.atomic
def friend_request_decline(*, user: User, request_id: int) -> FriendRequest:
    friend_request = _friend_request_get_for_recipient(user=user, request_id=request_id)
    return _friend_request_answer(friend_request=friend_request, status=FriendRequest.Status.DECLINED)
