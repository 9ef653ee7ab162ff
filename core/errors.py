"""The one exception type for business errors.

Services raise ``ApplicationError`` with a stable ``code``; the REST exception handler and
the WebSocket consumer turn it into ``{"code", "detail"}`` with a fitting status.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _


class ApplicationError(Exception):
    #: Stable machine-readable codes and the HTTP status each maps to.
    STATUS_BY_CODE = {
        "invalid": 400,
        "unauthenticated": 401,
        "not_permitted": 403,
        "not_found": 404,
        "conflict": 409,
        "too_large": 413,
        "unknown_app": 400,
        "rate_limited": 429,
        "locked_out": 429,
    }

    def __init__(
        self,
        detail: str,
        *,
        code: str = "invalid",
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status or self.STATUS_BY_CODE.get(code, 400)
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": str(self.detail), **self.extra}


def is_number(value: Any) -> bool:
    """A JSON integer (``True`` is an ``int`` in Python, but not a number here)."""
    return isinstance(value, int) and not isinstance(value, bool)


MAX_CLIENT_ID = 64
# Ids and counts are stored as 64-bit integers; a larger number is refused, not a fault.
MAX_NUMBER = 2**63 - 1


def is_storable_text(value: str) -> bool:
    """Whether a string can be stored and sent on: JSON lets a client write a lone UTF-16
    surrogate (``"\\ud800"``), which no UTF-8 database, file or socket can take."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def json_strings(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from json_strings(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def contains_unstorable_text(value: Any) -> bool:
    """Whether any string in a parsed JSON value (keys included) is not storable text."""
    return not all(is_storable_text(text) for text in json_strings(value))


def require_client_id(value: Any) -> str:
    """A client's own name for a request (idempotency key), or an ``invalid`` error."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CLIENT_ID or not is_storable_text(value):
        raise ApplicationError(
            _("client_id must be a string of 1 to %(n)d characters.") % {"n": MAX_CLIENT_ID}, code="invalid"
        )
    return value


def require_number(value: Any, field: str, *, minimum: int | None = None) -> int:
    """``value`` as an integer id or count from client input, or an ``invalid`` error."""
    if not is_number(value) or not -MAX_NUMBER <= value <= MAX_NUMBER or (minimum is not None and value < minimum):
        raise ApplicationError(f"{field}: " + _("must be a whole number."), code="invalid")
    return value
