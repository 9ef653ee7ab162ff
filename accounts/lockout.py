"""What a locked-out login attempt sees: a plain message on the page, JSON on the API."""

from __future__ import annotations

import logging
import math

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger("switchboard.security")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    # Axes' async middleware path passes the credentials in the wrong position; the
    # handler also leaves them on the request.
    credentials = credentials or getattr(request, "axes_credentials", None)
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 15
    logger.warning(
        "login locked out: username=%r address=%s path=%s",
        username,
        get_client_ip_address(request),
        request.path,
    )
    detail = _(
        "Too many failed sign-in attempts for this account from your address. "
        "Try again in %(minutes)d minutes, or ask an administrator to unlock it."
    ) % {"minutes": minutes}
    retry_after = str(minutes * 60)
    if request.path.startswith("/api/") or request.path.startswith("/o/"):
        response: HttpResponse = JsonResponse({"code": "locked_out", "detail": detail}, status=429)
    else:
        form = AuthenticationForm(request, initial={"username": username})
        response = render(
            request,
            "registration/login.html",
            {"form": form, "lockout_message": detail},
            status=429,
        )
    response["Retry-After"] = retry_after
    return response
