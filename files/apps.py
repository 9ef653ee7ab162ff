from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FilesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "files"
    verbose_name = _("Files")

    def ready(self) -> None:
        from messaging.registry import register_app_handler

        from .handlers import FileHandler

        register_app_handler(FileHandler())
