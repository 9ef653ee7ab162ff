from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppsAttendanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps_attendance"
    verbose_name = _("Attendance")
