from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# The accounts office apps send from, by username: (the English name the account is
# created with, that name translated lazily). Registered from the apps' ready().
_service_account_names: dict[str, tuple[str, object]] = {}


def register_service_account_name(username: str, name) -> None:
    """Name an office app's service account in each reader's language: ``name`` is a lazy
    translation (``pgettext_lazy("service account", "Attendance")``). The account keeps the
    English name in the database; an admin who renames it is shown as renamed."""
    _service_account_names[username] = (service_account_stored_name(name), name)


def service_account_stored_name(name) -> str:
    """The English text of a (lazily translated) name: what the database keeps."""
    with translation.override(None):
        return str(name)


class User(AbstractUser):
    """An employee's account: the paper's Account Server record."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    employee_number = models.CharField(
        _("employee number"), max_length=64, unique=True, null=True, blank=True
    )
    title = models.CharField(_("title"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    is_service_account = models.BooleanField(
        _("service account"),
        default=False,
        help_text=_("An account that office apps and integrations send from; it cannot sign in."),
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Leave empty to follow the browser's language."),
    )
    hide_notification_previews = models.BooleanField(
        _("hide previews in notifications"),
        default=False,
        help_text=_("Notifications say only that a message arrived, not who sent it or what it says."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """What people see: the display name, else the full name, else the username; a
        service account's registered name in the active language."""
        if self.is_service_account and self.username in _service_account_names:
            english, translated = _service_account_names[self.username]
            if self.display_name in ("", english):
                return str(translated)
        return self.display_name or self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # An empty employee number is "none", not a duplicate of another empty one.
        if self.employee_number == "":
            self.employee_number = None
        super().save(*args, **kwargs)
