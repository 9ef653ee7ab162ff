from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppsAttendanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps_attendance"
    verbose_name = _("Attendance")

    def ready(self) -> None:
        from accounts.models import register_service_account_name
        from contacts.events import demo_seeded
        from core import bus
        from messaging.registry import register_app_handler, register_conversation_permit

        from .handlers import AttendanceHandler
        from .services import SERVICE_NAME, SERVICE_USERNAME, conversation_permit, demo_schedules_configure, leave_approved

        register_service_account_name(SERVICE_USERNAME, SERVICE_NAME)
        register_app_handler(AttendanceHandler())
        register_conversation_permit("attendance", conversation_permit)
        # Approved leave and punch corrections arrive as the approvals' domain event.
        bus.subscribe("approval.approved")(leave_approved)
        demo_seeded.connect(demo_schedules_configure, dispatch_uid="apps_attendance.demo")
