import json
from urllib.parse import urlsplit

from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core import pwa
from core.readiness import OK, readiness_checks


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("chat")


def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("favicon.svg"))


def web_app_manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest (core.pwa), for everyone: browsers fetch it without cookies
    unless the page's link asks for them, as base.html's does so that a signed-in person's
    own language choice names the shortcuts."""
    response = JsonResponse(
        pwa.manifest(), content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "no-cache"
    return response


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, at the root so that its scope is the whole site. ``no-cache``: the
    browser asks each time it checks for an update, and a new release is found at once."""
    shell = pwa.shell()
    values = {
        "version": shell.version,
        "static_prefix": urlsplit(staticfiles_storage.base_url).path,
        "offline_url": reverse("offline"),
        "chat_url": reverse("chat"),
        "catalog_url": reverse("javascript-catalog"),
        "shell_header": pwa.SHELL_HEADER,
        "shell": list(shell.urls),
        "icon": staticfiles_storage.url("icons/icon-192.png"),
    }
    # Each value goes into the script as a JSON literal, which HTML escaping must not touch.
    context = {name: mark_safe(json.dumps(value)) for name, value in values.items()}
    body = render_to_string("core/sw.js", context)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def offline(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows for a page that cannot be reached. The same for
    everyone (it is kept in the browser's cache): rendered without the request, so without
    the signed-in person's top bar, and without taking their pending messages."""
    response = HttpResponse(render_to_string("core/offline.html"))
    response["Cache-Control"] = "no-cache"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


async def readyz(request: HttpRequest) -> HttpResponse:
    """Whether this worker can serve: its database and Redis hosts answer (core.readiness).
    ``/healthz`` stays a liveness check, which these services being away must not fail."""
    checks = await readiness_checks()
    ready = all(outcome == OK for outcome in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    response = JsonResponse(body, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/o/", "/scim/"))


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"code": "server_error", "detail": _("Something went wrong on the server.")}, status=500
        )
    return render(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check (CSRF_FAILURE_VIEW). People meet it after leaving a
    page open past their session or with cookies blocked, so it says that in their language
    and leads back; Django's middleware has already logged ``reason``."""
    return render(request, "403_csrf.html", {"back": _page_before(request)}, status=403)


def _page_before(request: HttpRequest) -> str:
    """The path of the page the form was on, when the Referer names one of this site's."""
    referer = request.headers.get("Referer", "")
    here = {request.get_host()}
    if not url_has_allowed_host_and_scheme(referer, allowed_hosts=here, require_https=request.is_secure()):
        return ""
    parts = urlsplit(referer)
    if not parts.path.startswith("/"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")
