from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppsAnnouncementsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps_announcements"
    verbose_name = _("Announcements")

    def ready(self) -> None:
        from accounts.models import register_service_account_name
        from messaging.registry import register_app_handler, register_conversation_permit

        from .handlers import AnnouncementHandler
        from .services import SERVICE_NAME, SERVICE_USERNAME, conversation_permit

        register_service_account_name(SERVICE_USERNAME, SERVICE_NAME)
        register_app_handler(AnnouncementHandler())
        register_conversation_permit("announcement", conversation_permit)
