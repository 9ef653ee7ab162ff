"""Checking a request's form against its template's field list, and the templates themselves."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from core.errors import ApplicationError

from .routing import APPROVER_KINDS, OPERATORS

FIELD_TYPES = ("text", "textarea", "number", "date", "time", "select", "items", "file")
MAX_TEXT = 2000


def _field_error(name: str, message: str) -> ApplicationError:
    return ApplicationError(
        f"{name}: {message}", code="invalid_field", extra={"field": name, "fields": {name: [message]}}
    )


def _clean_value(field: dict[str, Any], value: Any, owner) -> Any:
    kind, name = field.get("type", "text"), field["name"]
    if kind == "file":
        from .models import ApprovalFile

        file_id = int(value) if str(value).isdigit() else None
        upload = (
            ApprovalFile.objects.filter(pk=file_id, owner=owner, approval__isnull=True).first()
            if file_id is not None and owner is not None
            else None
        )
        if upload is None:
            raise _field_error(name, _("must be the id of a file you uploaded for this request."))
        return upload.pk
    if kind in ("text", "textarea", "select"):
        if not isinstance(value, str):
            raise _field_error(name, _("must be text."))
        value = value.strip()
        if len(value) > MAX_TEXT:
            raise _field_error(name, _("is too long."))
        if kind == "select" and value not in field.get("options", []):
            raise _field_error(name, _("must be one of the choices."))
        return value
    if kind == "number":
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise _field_error(name, _("must be a number.")) from None
        if not number.is_finite():
            raise _field_error(name, _("must be a number."))
        if "min" in field and number < Decimal(str(field["min"])):
            raise _field_error(name, _("must be at least %(min)s.") % {"min": field["min"]})
        if "max" in field and number > Decimal(str(field["max"])):
            raise _field_error(name, _("must be at most %(max)s.") % {"max": field["max"]})
        return float(number) if number != number.to_integral_value() else int(number)
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise _field_error(name, _("must be a date (YYYY-MM-DD).")) from None
    if kind == "time":
        try:
            return time.fromisoformat(str(value)).strftime("%H:%M")
        except ValueError:
            raise _field_error(name, _("must be a time (HH:MM).")) from None
    if kind == "items":
        if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
            raise _field_error(name, _("must be a list of items."))
        items = []
        for item in value[:100]:
            description = str(item.get("description", "")).strip()[:200]
            try:
                amount = Decimal(str(item.get("amount", 0)))
            except (InvalidOperation, ValueError):
                raise _field_error(name, _("each item needs an amount.")) from None
            if not amount.is_finite() or amount < 0:
                raise _field_error(name, _("each item needs an amount.")) from None
            items.append({"description": description, "amount": float(amount)})
        return items
    raise _field_error(name, _("has an unknown type."))


def form_clean(*, fields: list[dict[str, Any]], data: Any, owner=None) -> dict[str, Any]:
    """The form as the template defines it: known fields only, each checked and normalised."""
    if not isinstance(data, dict):
        raise ApplicationError(_("data must be a JSON object."), code="invalid")
    cleaned: dict[str, Any] = {}
    for field in fields:
        name = field["name"]
        value = data.get(name)
        if value in (None, "", []):
            if field.get("required"):
                raise _field_error(name, _("is required."))
            continue
        cleaned[name] = _clean_value(field, value, owner)
    if "start" in cleaned and "end" in cleaned and cleaned["end"] < cleaned["start"]:
        raise _field_error("end", _("must not be before the start."))
    return cleaned


def template_check_definition(*, fields: Any, steps: Any, cc: Any) -> None:
    """Refuse a template an admin wrote that the workflow could not run."""
    if not isinstance(fields, list) or not all(isinstance(f, dict) and f.get("name") for f in fields):
        raise ApplicationError(_("Fields must be a list of objects, each with a name."), code="invalid")
    names = [f["name"] for f in fields]
    if len(names) != len(set(names)):
        raise ApplicationError(_("Field names must be unique."), code="invalid")
    for field in fields:
        if field.get("type", "text") not in FIELD_TYPES:
            raise ApplicationError(
                _("Field %(name)s has an unknown type; use one of: %(types)s.")
                % {"name": field["name"], "types": ", ".join(FIELD_TYPES)},
                code="invalid",
            )
        if field.get("type") == "select" and not field.get("options"):
            raise ApplicationError(_("Field %(name)s needs options.") % {"name": field["name"]}, code="invalid")
    if not isinstance(steps, list) or not steps:
        raise ApplicationError(_("A template needs at least one approval step."), code="invalid")
    for spec in [*steps, *[{"approvers": c} for c in (cc or [])]]:
        approvers = spec.get("approvers") if isinstance(spec, dict) else None
        if not isinstance(approvers, dict) or approvers.get("kind") not in APPROVER_KINDS:
            raise ApplicationError(
                _("Each step needs approvers of a known kind: %(kinds)s.") % {"kinds": ", ".join(APPROVER_KINDS)},
                code="invalid",
            )
        if spec.get("mode", "any") not in ("any", "all"):
            raise ApplicationError(_("A step's mode is any or all."), code="invalid")
        condition = spec.get("condition")
        if condition and (not isinstance(condition, dict) or condition.get("op") not in OPERATORS or "field" not in condition):
            raise ApplicationError(_("A condition needs a field, an operator and a value."), code="invalid")
