"""SCIM's own error format (RFC 7644 §3.12), for every answer under /scim/v2/."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import ApplicationError

from .schemas import ERROR

logger = logging.getLogger("django.request")


class ScimError(Exception):
    """A request SCIM refuses. ``scim_type`` is one of RFC 7644 Table 9 (invalidFilter,
    tooMany, uniqueness, mutability, invalidSyntax, invalidPath, noTarget, invalidValue,
    invalidVers, sensitive), or None where the status says enough."""

    def __init__(self, detail: str, *, status: int = 400, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.scim_type = scim_type


def invalid_value(detail: str) -> ScimError:
    return ScimError(detail, scim_type="invalidValue")


def not_found(detail: str = "Resource not found.") -> ScimError:
    return ScimError(detail, status=404)


def error_body(*, status_code: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status_code)}
    if scim_type:
        body["scimType"] = scim_type
    body["detail"] = detail
    return body


# The business codes of other apps' services, as SCIM answers them.
_SCIM_TYPE_BY_CODE = {"invalid": "invalidValue", "conflict": "uniqueness"}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Every error of a SCIM view, SCIM-formatted. Unexpected ones are logged and answered
    with a SCIM 500, so that an identity provider's log shows a SCIM error, not a page."""
    headers: dict[str, str] = {}
    if isinstance(exc, ScimError):
        status_code, scim_type, detail = exc.status, exc.scim_type, exc.detail
    elif isinstance(exc, ApplicationError):
        status_code, scim_type, detail = exc.status, _SCIM_TYPE_BY_CODE.get(exc.code), str(exc.detail)
    elif isinstance(exc, Http404):
        status_code, scim_type, detail = 404, None, "Resource not found."
    elif isinstance(exc, DjangoPermissionDenied):
        status_code, scim_type, detail = 403, None, "Not permitted."
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        status_code, scim_type, detail = 401, None, "A Bearer token with the scim scope is required."
        headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    elif isinstance(exc, exceptions.PermissionDenied):
        status_code, scim_type, detail = 403, None, "This needs an integration's token with the scim scope."
    elif isinstance(exc, exceptions.ParseError):
        status_code, scim_type, detail = 400, "invalidSyntax", str(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        status_code, scim_type, detail = exc.status_code, None, str(exc.detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
    else:
        request = context.get("request")
        logger.error("SCIM request failed: %s", getattr(request, "path", "?"), exc_info=exc)
        status_code, scim_type, detail = 500, None, "The service provider failed to answer."
    set_rollback()  # as DRF's own handler does, should the request run in a transaction
    body = error_body(status_code=status_code, detail=detail, scim_type=scim_type)
    return Response(body, status=status_code, headers=headers)
