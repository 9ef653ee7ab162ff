"""Writes for integrations: registering and revoking clients, sending their notifications."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from accounts.models import User
from accounts.services import service_account_get_or_create
from core.errors import ApplicationError, require_client_id
from messaging.send import message_send

from .models import CLIENT_SCOPES, Client, Notification, NotificationRecipient

MAX_RECIPIENTS = 1000


def _require_http_url(value: str, message: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ApplicationError(message, code="invalid") from None
    return value


def _service_username(name: str) -> str:
    base = "integration-" + (slugify(name)[:100] or "client")
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


@transaction.atomic
def client_register(*, name: str, scopes: list[str], redirect_uris: list[str] = ()) -> tuple[Client, str]:
    """A new integration: a confidential OAuth2 client with these scopes and its own service
    account. Returns the client and its secret, which is shown once and stored hashed."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("An integration needs a name."), code="invalid")
    unknown = sorted(set(scopes) - set(CLIENT_SCOPES))
    if unknown or not scopes:
        raise ApplicationError(
            _("Scopes must be some of: %(scopes)s.") % {"scopes": ", ".join(CLIENT_SCOPES)}, code="invalid"
        )
    for uri in redirect_uris:
        _require_http_url(uri, _("%(uri)s is not a valid redirect URI.") % {"uri": uri})
    Application = get_application_model()
    secret = secrets.token_urlsafe(40)
    application = Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=(
            Application.GRANT_AUTHORIZATION_CODE if redirect_uris else Application.GRANT_CLIENT_CREDENTIALS
        ),
        redirect_uris=" ".join(redirect_uris),
        client_secret=secret,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    account = service_account_get_or_create(username=_service_username(name), display_name=name)
    client = Client.objects.create(application=application, scopes=sorted(set(scopes)), service_account=account)
    return client, secret


@transaction.atomic
def client_revoke(*, client_id: str) -> Client:
    """Switch an integration off: its tokens stop working and it can get no new ones."""
    client = Client.objects.select_related("application").filter(application__client_id=client_id).first()
    if client is None:
        raise ApplicationError(_("No such client."), code="not_found")
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    get_access_token_model().objects.filter(application=client.application).delete()
    for refresh in get_refresh_token_model().objects.filter(application=client.application, revoked__isnull=True):
        refresh.revoke()
    return client


def _rate_check(client: Client) -> None:
    """A fixed one-minute window per client; over it, 429 with the seconds left."""
    limit = client.notify_per_minute or settings.NOTIFY_RATE_PER_MINUTE
    window = int(timezone.now().timestamp() // 60)
    key = f"integrations:notify:{client.pk}:{window}"
    cache.add(key, 0, timeout=70)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=70)
        used = 1
    if used > limit:
        retry_after = 60 - int(timezone.now().timestamp()) % 60
        raise ApplicationError(
            _("Too many notifications; wait a moment."), code="rate_limited", extra={"retry_after": retry_after}
        )


def _recipients_find(keys: list[str]) -> dict[str, User]:
    """Each key is a username or an employee number; returns the people found, by key."""
    found: dict[str, User] = {}
    users = User.objects.filter(
        Q(username__in=keys) | Q(employee_number__in=[k for k in keys if k]), is_active=True, is_service_account=False
    )
    by_username = {u.username: u for u in users}
    by_number = {u.employee_number: u for u in users if u.employee_number}
    for key in keys:
        user = by_username.get(key) or by_number.get(key)
        if user is not None:
            found[key] = user
    return found


def notification_send(
    *, client: Client, recipients: Any, title: Any, text: Any, link: Any = "", client_id: Any
) -> tuple[Notification, list[dict], bool]:
    """Send a notice to each recipient from the client's service account, live to whoever
    is online. The same ``client_id`` never sends twice: it returns the first notification.
    Unknown recipients are reported, not fatal. Returns (notification, statuses, created)."""
    require_client_id(client_id)
    existing = Notification.objects.filter(client=client, client_request_id=client_id).first()
    if existing is not None:
        return existing, notification_statuses(notification=existing), False
    if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
        raise ApplicationError(_("recipients is a list of usernames or employee numbers."), code="invalid")
    if len(recipients) > MAX_RECIPIENTS:
        raise ApplicationError(
            _("At most %(n)d recipients at a time.") % {"n": MAX_RECIPIENTS}, code="too_large"
        )
    for field, value, limit in (("title", title, 200), ("text", text, 4000)):
        if not isinstance(value, str) or not value.strip():
            raise ApplicationError(_("%(field)s is required.") % {"field": field}, code="invalid")
        if len(value) > limit:
            raise ApplicationError(_("%(field)s is too long.") % {"field": field}, code="too_large")
    link = link or ""
    if not isinstance(link, str):
        raise ApplicationError(_("link is a URL."), code="invalid")
    if link:
        _require_http_url(link, _("link must be an http or https URL."))
    _rate_check(client)
    keys = list(dict.fromkeys(recipients))
    found = _recipients_find(keys)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                client=client, client_request_id=client_id, title=title.strip(), text=text.strip(), link=link
            )
            for user in {u.pk: u for u in found.values()}.values():
                result = message_send(
                    from_client=False,
                    sender=client.service_account,
                    to_user_id=user.pk,
                    app="notice",
                    body={"notification": notification.pk},
                    client_id=f"notice:{notification.pk}:{user.pk}",
                )
                NotificationRecipient.objects.create(
                    notification=notification, user=user, message_id=result.message.pk, delivered_at=timezone.now()
                )
    except IntegrityError:
        # The same client_id sent twice at the same moment: the first one stands.
        notification = Notification.objects.get(client=client, client_request_id=client_id)
        return notification, notification_statuses(notification=notification), False
    statuses = notification_statuses(notification=notification, found=found, keys=keys)
    return notification, statuses, True


def notification_statuses(
    *, notification: Notification, keys: list[str] | None = None, found: dict[str, User] | None = None
) -> list[dict]:
    """Per recipient: ``delivered`` (in their chat) and ``read`` (they have read that far).
    With ``keys`` (and the people ``found`` for them), one row per name as it was given."""
    from messaging.models import ConversationMember

    rows = list(
        NotificationRecipient.objects.filter(notification=notification)
        .select_related("user", "message")
        .order_by("user__username")
    )
    read_upto = {
        (m.conversation_id, m.user_id): m.last_read_seq
        for m in ConversationMember.objects.filter(
            conversation_id__in=[r.message.conversation_id for r in rows if r.message],
            user_id__in=[r.user_id for r in rows],
        )
    }
    by_user = {}
    for r in rows:
        read = bool(r.message) and read_upto.get((r.message.conversation_id, r.user_id), 0) >= r.message.seq
        by_user[r.user_id] = {
            "recipient": r.user.username,
            "user": r.user.username,
            "status": "delivered",
            "delivered": r.delivered_at is not None,
            "read": read,
        }
    if keys is None:
        return list(by_user.values())
    if found is None:
        found = _recipients_find(keys)
    statuses = []
    for key in keys:
        user = found.get(key)
        if user is None or user.pk not in by_user:
            statuses.append({"recipient": key, "user": None, "status": "unknown", "delivered": False, "read": False})
        else:
            statuses.append({**by_user[user.pk], "recipient": key})
    return statuses


def conversation_permit(a: User, b: User) -> bool:
    """An integration's service account may bring notices to anyone."""
    return a.is_service_account and Client.objects.filter(service_account=a, revoked_at__isnull=True).exists()
