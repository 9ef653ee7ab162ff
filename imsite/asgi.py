"""One ASGI application serves HTTP and WebSocket (under Daphne, or uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsite.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from messaging.socket.backpressure import OutboundBufferMiddleware  # noqa: E402
from core.gcfreeze import GcFreezing  # noqa: E402
from imsite.routing import websocket_urlpatterns  # noqa: E402
from messaging.socket.auth import WebSocketAuthMiddleware  # noqa: E402

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
