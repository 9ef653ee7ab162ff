from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppsApprovalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps_approval"
    verbose_name = _("Approvals")
