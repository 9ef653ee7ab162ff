from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppsAnnouncementsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps_announcements"
    verbose_name = _("Announcements")
