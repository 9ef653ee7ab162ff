from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PushConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "push"
    verbose_name = _("Push notifications")

    def ready(self) -> None:
        from accounts.selectors import register_settings_section
        from core import bus

        from . import checks  # noqa: F401  (the VAPID key and subject)
        from .services import messages_stored
        from .views import settings_section

        # Messaging tells of new messages after they commit; the pushes go out through
        # Celery (push.tasks).
        bus.subscribe("message.stored")(messages_stored)
        # This person's devices and the button that subscribes this one, on the settings page.
        register_settings_section("push/settings_section.html", settings_section)
