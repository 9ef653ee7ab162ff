"""Registered integrations: an OAuth2 application, the scopes it may have, its service account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

# What an integration may be granted; the first-party client's own read/write are not here.
CLIENT_SCOPES = ["openid", "profile", "email", "notify", "directory:read", "scim"]


class Client(models.Model):
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="integration",
        verbose_name=_("OAuth2 application"),
    )
    scopes = models.JSONField(_("scopes"), default=list, help_text=_("The only scopes its tokens may carry."))
    service_account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="integration",
        verbose_name=_("service account"),
        help_text=_("The account its notifications come from."),
    )
    notify_per_minute = models.PositiveIntegerField(
        _("notifications per minute"), null=True, blank=True, help_text=_("Empty: the site's default.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return self.application.name


class Notification(models.Model):
    """One notification an integration sent, to many recipients (idempotent by client_id)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("integration"))
    client_request_id = models.CharField(_("client id"), max_length=64, help_text=_("The sender's own id for it."))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), max_length=4000)
    link = models.URLField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["client", "client_request_id"], name="notification_client_id_unique")]


class NotificationRecipient(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("messaging.Message", on_delete=models.SET_NULL, null=True, related_name="+")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notification", "user"], name="notification_recipient_unique")]


# SCIM's own records (externalId per client) live with the rest of the integrations' models.
from .scim.models import ScimGroup, ScimUser  # noqa: E402,F401
