from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "contacts"
    verbose_name = _("Address book")

    def ready(self) -> None:
        from accounts.selectors import register_profile_part

        from .selectors import profile_department

        register_profile_part("department", profile_department)
