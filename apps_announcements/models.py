"""Announcements: one author to an audience, with read and confirmation receipts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Announcement(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="announcements", verbose_name=_("author")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(_("body (HTML)"), editable=False)
    #: ``{"everyone": true}`` or ``{"departments": [codes]}`` (sub-departments included).
    audience = models.JSONField(_("audience"))
    pinned = models.BooleanField(_("pinned"), default=False)
    requires_confirmation = models.BooleanField(_("requires confirmation"), default=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    client_id = models.CharField(_("client id"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    audience_size = models.PositiveIntegerField(_("audience size"), default=0)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "client_id"], name="announcement_client_id_unique")
        ]

    def __str__(self) -> str:
        return self.title


class Recipient(models.Model):
    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("announcement")
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="announcement_recipient_unique")]
        indexes = [models.Index(fields=["user", "announcement"])]
