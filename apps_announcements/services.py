"""Writes for announcements: publish (fanned out in batches through Celery), read, confirm."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from accounts.services import service_account_get_or_create, service_account_permit
from contacts.models import Department
from core.errors import ApplicationError, require_client_id, require_number
from messaging.handlers import render_markdown
from messaging.send import message_send

from .models import Announcement, Recipient
from .selectors import (
    access_announcement_receipts,
    audience_user_ids,
    departments_user_may_address,
    may_announce_to_everyone,
)

SERVICE_USERNAME = "announcements"
#: Its name, in each reader's language (registered in apps.py).
SERVICE_NAME = pgettext_lazy("service account", "Announcements")


def service_account() -> User:
    """The account announcements are sent from (it cannot sign in)."""
    return service_account_get_or_create(username=SERVICE_USERNAME, display_name=SERVICE_NAME)


def _check_audience(audience: Any) -> dict:
    if isinstance(audience, dict) and audience.get("everyone") is True and set(audience) == {"everyone"}:
        return {"everyone": True}
    codes = audience.get("departments") if isinstance(audience, dict) else None
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise ApplicationError(
            _('audience is {"everyone": true} or {"departments": [codes]}.'), code="invalid_field", extra={"field": "audience"}
        )
    known = set(Department.objects.filter(code__in=codes).values_list("code", flat=True))
    if known != set(codes):
        raise ApplicationError(
            _("Unknown departments: %(codes)s.") % {"codes": ", ".join(sorted(set(codes) - known))},
            code="invalid_field",
            extra={"field": "audience"},
        )
    return {"departments": sorted(known)}


def check_may_announce(*, author: User, audience: dict) -> None:
    """HR and the president's office (ANNOUNCE_TO_EVERYONE_DEPARTMENTS) may announce to
    everyone; a manager to the departments they manage and those below; nobody else."""
    if may_announce_to_everyone(author):
        return
    if audience.get("everyone"):
        raise ApplicationError(_("You may not announce to the whole company."), code="not_permitted")
    mine = set(departments_user_may_address(author).values_list("code", flat=True))
    if not set(audience["departments"]) <= mine:
        raise ApplicationError(_("You may only announce to departments you manage."), code="not_permitted")


def _expiry(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = parse_datetime(str(value)) if not isinstance(value, datetime) else value
    if parsed is None:
        raise ApplicationError(_("expires_at must be a date and time."), code="invalid_field", extra={"field": "expires_at"})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed <= timezone.now():
        raise ApplicationError(
            _("The expiry must be in the future."), code="invalid_field", extra={"field": "expires_at"}
        )
    return parsed


@transaction.atomic
def announcement_publish(
    *,
    author: User,
    title: Any,
    body: Any,
    audience: Any,
    client_id: Any,
    pinned: bool = False,
    requires_confirmation: bool = False,
    expires_at: Any = None,
) -> tuple[Announcement, bool]:
    """Store an announcement and hand its delivery to Celery, in batches; returns at once."""
    require_client_id(client_id)
    existing = Announcement.objects.filter(author=author, client_id=client_id).first()
    if existing is not None:
        return existing, False
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise ApplicationError(_("A title of 1 to 200 characters is needed."), code="invalid_field", extra={"field": "title"})
    if not isinstance(body, str) or not body.strip() or len(body) > 20_000:
        raise ApplicationError(_("A body of up to 20,000 characters is needed."), code="invalid_field", extra={"field": "body"})
    audience = _check_audience(audience)
    check_may_announce(author=author, audience=audience)
    try:
        with transaction.atomic():
            announcement = Announcement.objects.create(
                author=author,
                title=title.strip(),
                body=body,
                body_html=render_markdown(body),
                audience=audience,
                pinned=bool(pinned),
                requires_confirmation=bool(requires_confirmation),
                expires_at=_expiry(expires_at),
                client_id=client_id,
                audience_size=len(audience_user_ids(audience)),
            )
    except IntegrityError:
        existing = Announcement.objects.filter(author=author, client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
    from .tasks import deliver

    transaction.on_commit(lambda: deliver.delay(announcement.pk, 0))
    return announcement, True


def announcement_deliver_batch(*, announcement_id: int, after_user_id: int = 0) -> int | None:
    """Deliver to the next batch of the audience; returns where to continue, or None."""
    announcement = Announcement.objects.filter(pk=announcement_id).first()
    if announcement is None:
        return None
    batch = [uid for uid in audience_user_ids(announcement.audience) if uid > after_user_id][
        : settings.ANNOUNCEMENT_BATCH_SIZE + 1
    ]
    sender = service_account()
    for user_id in batch[: settings.ANNOUNCEMENT_BATCH_SIZE]:
        with transaction.atomic():
            recipient, _created = Recipient.objects.get_or_create(announcement=announcement, user_id=user_id)
            if recipient.delivered_at is None:
                message_send(
                    from_client=False,
                    sender=sender,
                    to_user_id=user_id,
                    app="announcement",
                    body={"announcement": announcement.pk},
                    client_id=f"announcement:{announcement.pk}:{user_id}",
                )
                recipient.delivered_at = timezone.now()
                recipient.save(update_fields=["delivered_at"])
    if len(batch) > settings.ANNOUNCEMENT_BATCH_SIZE:
        return batch[settings.ANNOUNCEMENT_BATCH_SIZE - 1]
    Announcement.objects.filter(pk=announcement.pk).update(delivered_at=timezone.now())
    return None


def _receipt(*, user: User, announcement_id: Any) -> Recipient:
    require_number(announcement_id, "announcement")
    recipient = Recipient.objects.select_related("announcement").filter(announcement_id=announcement_id, user=user).first()
    if recipient is None:
        raise ApplicationError(_("No such announcement."), code="not_found")
    return recipient


def announcement_mark_read(*, user: User, announcement_id: Any) -> Recipient:
    recipient = _receipt(user=user, announcement_id=announcement_id)
    if recipient.read_at is None:
        recipient.read_at = timezone.now()
        recipient.save(update_fields=["read_at"])
    return recipient


def announcement_confirm(*, user: User, announcement_id: Any) -> Recipient:
    recipient = _receipt(user=user, announcement_id=announcement_id)
    if not recipient.announcement.requires_confirmation:
        raise ApplicationError(_("This announcement asks for no confirmation."), code="conflict")
    now = timezone.now()
    fields = []
    if recipient.read_at is None:
        recipient.read_at = now
        fields.append("read_at")
    if recipient.confirmed_at is None:
        recipient.confirmed_at = now
        fields.append("confirmed_at")
    if fields:
        recipient.save(update_fields=fields)
    return recipient


def _pending_reminder_ids(announcement: Announcement):
    """Everyone the announcement has reached who has not confirmed it (or not read it, when
    no confirmation is asked for). Only people it has reached: a reminder must not arrive
    before the announcement itself while delivery is still under way."""
    pending = Q(confirmed_at__isnull=True) if announcement.requires_confirmation else Q(read_at__isnull=True)
    return (
        Recipient.objects.filter(pending, announcement=announcement, delivered_at__isnull=False, user__is_active=True)
        .exclude(user_id=announcement.author_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def announcement_remind_unconfirmed(*, user: User, announcement_id: Any, run_id: str | None = None) -> int:
    """Send the announcement again, marked as a reminder, to everyone it reached who has not
    confirmed it yet; returns how many will be reminded. The messages go out in Celery
    batches, as the announcement itself did, never inside the request.

    The author and administrators only. Each run is a new set of messages; a run repeated
    with the same ``run_id`` (a form sent twice) sends nothing more.
    """
    announcement = access_announcement_receipts(user=user, announcement_id=announcement_id)
    if announcement.expires_at is not None and announcement.expires_at <= timezone.now():
        raise ApplicationError(_("This announcement has expired."), code="conflict")
    count = _pending_reminder_ids(announcement).count()
    run = "".join(c for c in str(run_id or "") if c.isascii() and c.isalnum())[:16] or uuid.uuid4().hex[:16]
    if count:
        from .tasks import remind

        transaction.on_commit(lambda: remind.delay(announcement.pk, run, 0))
    return count


def announcement_remind_batch(*, announcement_id: int, run: str, after_user_id: int = 0) -> int | None:
    """Remind the next batch of those still pending; returns where to continue, or None.
    Whoever confirms meanwhile is left out; the ``client_id`` makes a repeated run a no-op."""
    announcement = Announcement.objects.filter(pk=announcement_id).first()
    if announcement is None:
        return None
    size = settings.ANNOUNCEMENT_BATCH_SIZE
    batch = list(_pending_reminder_ids(announcement).filter(user_id__gt=after_user_id)[: size + 1])
    sender = service_account()
    for user_id in batch[:size]:
        message_send(
            from_client=False,
            sender=sender,
            to_user_id=user_id,
            app="announcement",
            body={"announcement": announcement.pk, "reminder": True},
            client_id=f"announcement:{announcement.pk}:remind:{run}:{user_id}"[:64],
        )
    return batch[size - 1] if len(batch) > size else None


# The announcements account may bring announcements to anyone.
conversation_permit = service_account_permit(SERVICE_USERNAME)
