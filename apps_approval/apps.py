from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppsApprovalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps_approval"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from contacts.events import demo_seeded
        from messaging.registry import register_app_handler, register_conversation_permit

        from .services import demo_templates_configure

        from .handlers import ApprovalHandler
        from .services import conversation_permit

        register_app_handler(ApprovalHandler())
        register_conversation_permit("approval", conversation_permit)
        demo_seeded.connect(demo_templates_configure, dispatch_uid="apps_approval.demo")
