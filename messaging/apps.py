from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (the direct transport's settings)
        from . import events  # noqa: F401  (subscribes to the address book's events)
        from .handlers import ChatHandler, GroupHandler
        from .registry import register_app_handler

        register_app_handler(ChatHandler())
        register_app_handler(GroupHandler())
