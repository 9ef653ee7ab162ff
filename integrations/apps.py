from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Other systems of the office (the HR system first): OAuth2/OIDC clients with their
    scopes, notifications they send, and their own service accounts."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from messaging.registry import register_app_handler, register_conversation_permit

        from . import checks  # noqa: F401  (the key that signs ID tokens)
        from .handlers import NoticeHandler
        from .services import conversation_permit

        register_app_handler(NoticeHandler())
        register_conversation_permit("notice", conversation_permit)
