"""One ASGI application serves HTTP and WebSocket (under Daphne, or uvicorn)."""

import io
import os

from django.core.asgi import get_asgi_application
from django.core.management import call_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsite.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

# manage.py's commands run the system checks, Daphne and uvicorn do not: a configuration
# that `manage.py check` refuses stops the worker here, before it serves anything, with
# the same report. Warnings go to standard error; "no issues" goes nowhere.
call_command("check", stdout=io.StringIO())

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from search.text import segmenter_process_start  # noqa: E402

from messaging.socket.backpressure import OutboundBufferMiddleware  # noqa: E402
from core.gcfreeze import GcFreezing  # noqa: E402
from imsite.routing import websocket_urlpatterns  # noqa: E402
from messaging.socket.auth import WebSocketAuthMiddleware  # noqa: E402

# Search's word segmenter runs in a process of its own beside the worker (search.segmenter):
# its dictionary, hundreds of thousands of objects, stays out of the worker's interpreter.
segmenter_process_start()

# GcFreezing passes every call through untouched (Daphne's send callable included).
application = GcFreezing(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            # Outermost, so that it sees Daphne's own send callable (messaging.socket.backpressure).
            "websocket": OutboundBufferMiddleware(WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
        }
    )
)
