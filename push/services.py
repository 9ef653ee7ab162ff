"""Writes for Web Push: subscribing a browser, removing one, and the hand-over of new
messages to Celery (push.tasks), which decides who is pushed (push.delivery)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ApplicationError, require_number
from core.handover import IdHandover

from .models import MAX_ENDPOINT, PushSubscription

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_LABEL = 150
MAX_USER_AGENT = 300


def _invalid(detail: str, field: str) -> ApplicationError:
    return ApplicationError(detail, code="invalid_field", extra={"field": field})


def _host_allowed(host: str) -> bool:
    """Whether the push service's host is one the site may post to (PUSH_ENDPOINT_HOSTS):
    a name listed, one under a ``*.`` suffix listed, or with ``*`` any name that is not an
    address of this machine or of a private network."""
    host = host.lower().rstrip(".")
    for allowed in settings.PUSH_ENDPOINT_HOSTS:
        allowed = allowed.lower()
        if allowed == "*":
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                return host not in LOOPBACK_HOSTS and not host.endswith(".localhost")
            return address.is_global
        if host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])):
            return True
    return False


def endpoint_check(endpoint: Any) -> str:
    """The endpoint of a push service: https only (plain http on loopback where
    PUSH_ALLOW_HTTP_LOOPBACK says so, for tests), to a host PUSH_ENDPOINT_HOSTS allows,
    without credentials or fragment, at most MAX_ENDPOINT characters."""
    if not isinstance(endpoint, str) or not endpoint:
        raise _invalid(_("A subscription needs its endpoint URL."), "endpoint")
    if len(endpoint) > MAX_ENDPOINT:
        raise _invalid(_("The endpoint URL is too long."), "endpoint")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a port that is not a number raises)
    except ValueError:
        raise _invalid(_("The endpoint is not a URL."), "endpoint") from None
    if not host or parts.username is not None or parts.password is not None or parts.fragment or " " in endpoint:
        raise _invalid(_("The endpoint is not a URL."), "endpoint")
    loopback = settings.PUSH_ALLOW_HTTP_LOOPBACK and host in LOOPBACK_HOSTS
    if parts.scheme == "https" and (loopback or _host_allowed(host)):
        return endpoint
    if parts.scheme == "http" and loopback:
        return endpoint
    if parts.scheme != "https":
        raise _invalid(_("A push endpoint must use https."), "endpoint")
    raise ApplicationError(
        _("This site does not send to that push service."), code="push_service_not_allowed", status=400,
        extra={"field": "endpoint"},
    )


def _b64url(value: Any, *, field: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise _invalid(_("The subscription's %(field)s key is missing.") % {"field": field}, f"keys.{field}")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(_("The subscription's %(field)s key is not base64url.") % {"field": field}, f"keys.{field}") from None


def keys_check(keys: Any) -> tuple[str, str]:
    """The browser's P-256 public key (an uncompressed point on the curve) and its 16-byte
    auth secret, both base64url, as ``PushSubscription.toJSON()`` gives them."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(keys, dict):
        raise _invalid(_("A subscription needs its keys (p256dh and auth)."), "keys")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    point = _b64url(p256dh, field="p256dh")
    try:
        if len(point) != 65 or point[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise _invalid(_("The p256dh key is not a P-256 public key."), "keys.p256dh") from None
    if len(_b64url(auth, field="auth")) != 16:
        raise _invalid(_("The auth secret must be 16 bytes."), "keys.auth")
    return p256dh.rstrip("="), auth.rstrip("=")


def device_label(user_agent: str) -> str:
    """A name a person recognises a device by, from its browser's user agent."""
    ua = user_agent or ""
    browser = next(
        (name for key, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"),
                                ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")) if key in ua),
        "",
    )
    system = next(
        (name for key, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
                                ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")) if key in ua),
        "",
    )
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("A browser")


@transaction.atomic
def subscription_save(
    *, user: User, endpoint: Any, keys: Any, label: Any = None, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Store this browser's subscription for ``user``; returns it and whether it is new.

    The same endpoint again updates it (its keys may have changed), and moves it to
    ``user`` when someone else signed in on that browser before. Beyond
    PUSH_MAX_SUBSCRIPTIONS devices, the oldest of that person's are dropped."""
    endpoint = endpoint_check(endpoint)
    p256dh, auth = keys_check(keys)
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
        raise _invalid(_("A device's label is text of at most %(max)d characters.") % {"max": MAX_LABEL}, "label")
    user_agent = (user_agent or "")[:MAX_USER_AGENT]
    label = (label or "").strip() or device_label(user_agent)
    subscription = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
    created = subscription is None
    if created:
        subscription = PushSubscription(endpoint=endpoint)
    subscription.user = user
    subscription.p256dh, subscription.auth = p256dh, auth
    subscription.label, subscription.user_agent = label, user_agent
    subscription.failures = 0
    subscription.save()
    # Room for this one: the person's oldest others go.
    limit = max(settings.PUSH_MAX_SUBSCRIPTIONS, 1)
    others = PushSubscription.objects.filter(user=user).exclude(pk=subscription.pk).order_by("-created_at", "-pk")
    surplus = list(others.values_list("pk", flat=True)[limit - 1 :])
    if surplus:
        PushSubscription.objects.filter(pk__in=surplus).delete()
    return subscription, created


def subscription_delete(*, user: User, subscription_id: Any) -> None:
    """Remove one of ``user``'s own subscriptions; anyone else's is ``not_found``."""
    require_number(subscription_id, "subscription")
    deleted, _rows = PushSubscription.objects.filter(user=user, pk=subscription_id).delete()
    if not deleted:
        raise ApplicationError(_("No such device."), code="not_found")


def _notify_here(message_ids: list[int]) -> int:
    from .tasks import messages_notify

    return messages_notify(message_ids)


def _notify_task():
    from .tasks import messages_notify

    return messages_notify


#: This process's new messages to push about (core.handover): a thread hands them to the
#: Celery task ``push.tasks.messages_notify`` in batches, so that the send path neither
#: writes a task per message nor, where Celery runs eagerly, waits for a push service.
pushes = IdHandover("push-notify", _notify_here, _notify_task, batch=200)


def messages_stored(payload: dict) -> None:
    """Messaging's ``message.stored`` event (after commit): the new messages go to Celery,
    which pushes them to whoever should hear of them (push.tasks)."""
    ids = [pk for pk in payload.get("ids", ()) if isinstance(pk, int)]
    if ids:
        pushes.add(ids)
