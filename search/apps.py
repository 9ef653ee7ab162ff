from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from core import bus

        from . import checks  # noqa: F401  (the limits' settings)

        from .indexer import messages_changed

        # Messaging tells of new, edited and recalled messages after they commit; the
        # index follows within a second (search.indexer).
        bus.subscribe("message.stored")(messages_changed)
        bus.subscribe("message.changed")(messages_changed)
