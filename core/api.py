"""Shared pieces of the REST API: the error format and pagination."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from oauth2_provider.models import AccessToken
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser as BaseJSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from core.errors import ApplicationError, contains_unstorable_text

_CODE_BY_EXCEPTION: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "unauthenticated"),
    (exceptions.AuthenticationFailed, "unauthenticated"),
    (exceptions.PermissionDenied, "not_permitted"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
    (exceptions.ParseError, "invalid"),
    (exceptions.ValidationError, "invalid"),
]


def _code_for(exc: exceptions.APIException) -> str:
    for exc_type, code in _CODE_BY_EXCEPTION:
        if isinstance(exc, exc_type):
            return code
    return "error"


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        message = _first_message(value)
        return message if key == "non_field_errors" else f"{key}: {message}"
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Format every API error as ``{"code", "detail"}`` (plus ``fields`` for forms)."""
    if isinstance(exc, ApplicationError):
        response = Response(exc.as_dict(), status=exc.status)
        if exc.code in {"rate_limited", "locked_out"} and "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    data: dict[str, Any] = {"code": _code_for(exc)}
    if isinstance(exc, exceptions.ValidationError):
        data["detail"] = _first_message(exc.detail) or _("The request is not valid.")
        if isinstance(exc.detail, dict):
            data["fields"] = exc.detail
    else:
        data["detail"] = str(exc.detail)
    response = Response(data, status=exc.status_code)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait))
    return response


class JSONParser(BaseJSONParser):
    """JSON whose every string can be stored: a lone UTF-16 surrogate (which JSON's
    ``\\uXXXX`` escapes allow) is refused with ``400 invalid`` before any view sees it,
    instead of failing later where the text is written."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if contains_unstorable_text(data):
            raise exceptions.ParseError(_("The request contains text that is not valid Unicode."))
        return data


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class TokenScopePermission(BasePermission):
    """A Bearer token must carry ``read`` to read and ``write`` to change anything; a
    browser session may do what its user may."""

    message = "This token's scope does not allow that."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, AccessToken):
            return True
        return token.allow_scopes(["read" if request.method in SAFE_METHODS else "write"])


class ClientScopePermission(BasePermission):
    """An integration acting as itself: a client-credentials token (no user behind it) that
    carries the view's ``required_scope``. A person's token or session gets 403."""

    message = "This needs an integration's token with the right scope."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None:
            raise exceptions.NotAuthenticated()
        return isinstance(token, AccessToken) and token.user_id is None and token.allow_scopes([view.required_scope])
