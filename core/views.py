from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.readiness import OK, readiness_checks


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("chat")


def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("favicon.svg"))


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
