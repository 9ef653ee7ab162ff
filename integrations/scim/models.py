"""What SCIM keeps beyond the accounts and departments themselves: each provisioning
client's own ``externalId`` for a resource (RFC 7643 §3.1 scopes it to the client), and
when that client last changed it (``meta.lastModified``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ScimUser(models.Model):
    client = models.ForeignKey("integrations.Client", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_links")
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("last modified"), auto_now=True)

    class Meta:
        app_label = "integrations"
        verbose_name = _("SCIM user")
        verbose_name_plural = _("SCIM users")
        constraints = [
            models.UniqueConstraint(fields=["client", "user"], name="scim_user_one_per_client"),
            models.UniqueConstraint(
                fields=["client", "external_id"], condition=~Q(external_id=""), name="scim_user_external_id_unique"
            ),
        ]


class ScimGroup(models.Model):
    client = models.ForeignKey("integrations.Client", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("contacts.Department", on_delete=models.CASCADE, related_name="scim_links")
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("last modified"), auto_now=True)

    class Meta:
        app_label = "integrations"
        verbose_name = _("SCIM group")
        verbose_name_plural = _("SCIM groups")
        constraints = [
            models.UniqueConstraint(fields=["client", "department"], name="scim_group_one_per_client"),
            models.UniqueConstraint(
                fields=["client", "external_id"], condition=~Q(external_id=""), name="scim_group_external_id_unique"
            ),
        ]
