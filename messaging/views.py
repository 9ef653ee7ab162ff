import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.urls import reverse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core import pwa

from .models import MessageReaction
from .registry import app_handlers
from .send import MAX_BODY_BYTES


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    user = request.user
    response = render(
        request,
        "messaging/chat.html",
        {
            "user_json": {"id": user.pk, "username": user.username, "display_name": user.name},
            "config_json": {
                "ws_path": "/ws/",
                "max_body_bytes": MAX_BODY_BYTES,
                "page_size": 50,
                "p2p": {
                    "enabled": settings.P2P_ENABLED,
                    "ice_servers": settings.ICE_SERVERS,
                    "connect_timeout_ms": settings.P2P_CONNECT_TIMEOUT_MS,
                },
                "p2p_report_url": reverse("api-p2p-bytes"),
                # What the message menu offers, and until when.
                "reactions": list(MessageReaction.EMOJI),
                "edit_window_seconds": settings.MESSAGE_EDIT_WINDOW_SECONDS,
                "recall_window_seconds": settings.MESSAGE_RECALL_WINDOW_SECONDS,
                # What people call each app's messages, in the page's language (previews).
                "app_labels": {h.app: str(h.label) for h in app_handlers.values()},
                # What each office app's client needs, from the app's own handler.
                "apps": {h.app: config for h in app_handlers.values() if (config := h.chat_config()) is not None},
            },
            # Each office app's client-side renderer, named by its handler.
            "app_includes": [h.chat_include for h in app_handlers.values() if h.chat_include],
            "app_banners": [h.chat_banner for h in app_handlers.values() if h.chat_banner],
        },
    )
    # The release this page belongs with: the service worker keeps it to open offline
    # (docs/mobile.md, "Working offline") while it holds that release's static files.
    response[pwa.SHELL_HEADER] = pwa.shell().version
    return response


def _from_allowed_address(request: HttpRequest) -> bool:
    if settings.BEHIND_PROXY and "HTTP_X_FORWARDED_FOR" in request.META:
        # Relayed by the proxy (which names the client in X-Forwarded-For): whatever
        # address the worker sees, the request came from outside. A scraper on the host
        # asks the worker directly, without the header.
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or str(address) in settings.METRICS_ALLOWED_ADDRESSES


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of this worker: for staff, and for scrapers on allowed addresses."""
    if not (_from_allowed_address(request) or (request.user.is_authenticated and request.user.is_staff)):
        return HttpResponseForbidden("Forbidden", content_type="text/plain")
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
