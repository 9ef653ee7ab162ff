from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_ENDPOINT = 1000


class PushSubscription(models.Model):
    """One browser's Web Push subscription (its ``PushSubscription`` JSON): where to send,
    and the keys that encrypt what is sent (RFC 8291)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions", verbose_name=_("user")
    )
    endpoint = models.URLField(_("endpoint"), max_length=MAX_ENDPOINT, unique=True)
    p256dh = models.CharField(_("P-256 public key"), max_length=100)
    auth = models.CharField(_("auth secret"), max_length=50)
    label = models.CharField(_("device"), max_length=150, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["user", "created_at"], name="push_sub_user_created")]

    def __str__(self) -> str:
        return self.label or self.endpoint[:60]

    def info(self) -> dict:
        """What pywebpush takes: the browser's subscription JSON."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
