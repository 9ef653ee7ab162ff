"""Approval pages: my boxes, filing a request from a template, a request with its chain and
history, and the decide and withdraw forms. Thin: reads go through selectors, writes
through the same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import ApplicationError

from . import selectors, services
from .builtin import builtin_text, option_text
from .models import Approval, ApprovalStep

BOXES = [
    ("pending", gettext_lazy("Waiting for me")),
    ("mine", gettext_lazy("My requests")),
    ("done", gettext_lazy("Done by me")),
]
PAGE_SIZE = 25
ITEM_ROWS = 3
MAX_ITEM_ROWS = 100

DECISIONS = {"approve": Approval.State.APPROVED.label, "reject": Approval.State.REJECTED.label}
ACTIONS = {
    "create": gettext_lazy("created the request"),
    "submit": gettext_lazy("submitted the request"),
    "approve": gettext_lazy("approved"),
    "reject": gettext_lazy("rejected"),
    "withdraw": gettext_lazy("withdrew the request"),
}


def _state_label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else value


# ---------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------
def _row(approval: Approval, detail: dict) -> dict:
    return {**detail, "summary": _form_rows(approval, detail["summary"])}


@login_required
def approval_list(request):
    box = request.GET.get("box", "pending")
    if box not in selectors.BOXES:
        box = "pending"
    page = Paginator(selectors.approval_list_for_user(user=request.user, box=box), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "apps_approval/list.html",
        {
            "box": box,
            "boxes": BOXES,
            "page": page,
            "rows": [_row(a, selectors.approval_detail(a, viewer=request.user)) for a in page],
            "pending_count": selectors.pending_count_for_user(user=request.user),
        },
    )


# ---------------------------------------------------------------------------------------
# Filing a request
# ---------------------------------------------------------------------------------------
@login_required
def template_choose(request):
    return render(request, "apps_approval/new.html", {"templates": selectors.template_list()})


def _posted_values(fields: list[dict[str, Any]], post: QueryDict) -> dict[str, Any]:
    """The form as typed: strings, and for ``items`` a list of description/amount rows."""
    values: dict[str, Any] = {}
    for field in fields:
        name, kind = field["name"], field.get("type", "text")
        if kind == "items":
            rows = []
            for i in range(MAX_ITEM_ROWS):
                description = post.get(f"field-{name}-{i}-description")
                amount = post.get(f"field-{name}-{i}-amount")
                if description is None and amount is None:
                    break
                rows.append({"description": (description or "").strip(), "amount": (amount or "").strip()})
            values[name] = rows
        else:
            # A file field carries the id of a file uploaded on an earlier try, if any.
            values[name] = post.get(f"field-{name}", "")
    return values


def _files_upload(request, fields: list[dict[str, Any]], values: dict[str, Any], errors: dict[str, str]) -> None:
    """Keep the files chosen in the form; each then stands in the form as its id."""
    for field in fields:
        name = field["name"]
        upload = request.FILES.get(f"field-{name}") if field.get("type") == "file" else None
        if upload is None:
            continue
        try:
            values[name] = str(services.approval_file_upload(owner=request.user, upload=upload).pk)
        except ApplicationError as error:
            errors[name] = error.detail


def _attached(user, value: Any):
    """The not yet submitted upload a file field names, if it is the user's."""
    try:
        return selectors.approval_file_get_for_user(user=user, file_id=int(value))
    except (ApplicationError, TypeError, ValueError):
        return None


def _submitted_data(fields: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """What the service checks: blank item rows dropped, everything else as typed."""
    data = dict(values)
    for field in fields:
        if field.get("type") == "items" and field["name"] in data:
            data[field["name"]] = [row for row in data[field["name"]] if row["description"] or row["amount"]]
    return data


def _form_fields(user, fields: list[dict[str, Any]], values: dict[str, Any], errors: dict[str, str]) -> list[dict]:
    shown = []
    for field in fields:
        name, kind = field["name"], field.get("type", "text")
        entry = {
            **field,
            "type": kind,
            "label": builtin_text(field.get("label") or name),
            "input_name": f"field-{name}",
            "input_id": f"field-{name}",
            "value": values.get(name, ""),
            "error": errors.get(name, ""),
        }
        if kind == "select":
            entry["choices"] = [(option, option_text(option)) for option in field.get("options", [])]
        if kind == "items":
            rows = list(values.get(name) or [])
            rows += [{"description": "", "amount": ""}] * max(0, ITEM_ROWS - len(rows))
            entry["rows"] = rows
        if kind == "file":
            entry["attached"] = _attached(user, entry["value"]) if entry["value"] else None
            entry["value"] = entry["attached"].pk if entry["attached"] else ""
        shown.append(entry)
    return shown


@login_required
def approval_new(request, code: str):
    template = selectors.template_list().filter(code=code).first()
    if template is None:
        raise Http404
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    client_id = uuid.uuid4().hex
    status = 200
    if request.method == "POST":
        values = _posted_values(template.fields, request.POST)
        client_id = request.POST.get("client_id", "")
        _files_upload(request, template.fields, values, errors)
        if not errors:
            try:
                approval, created = services.approval_submit(
                    requester=request.user,
                    template_code=template.code,
                    data=_submitted_data(template.fields, values),
                    client_id=client_id,
                )
            except ApplicationError as error:
                field = error.extra.get("field")
                if field in values:
                    errors[field] = (error.extra.get("fields", {}).get(field) or [error.detail])[0]
                else:
                    messages.error(request, error.detail)
            else:
                if created:
                    messages.success(request, _("Your request was sent for approval."))
                else:
                    messages.info(request, _("This request had already been sent."))
                return redirect("approvals:detail", approval_id=approval.pk)
        labels = {f["name"]: f["label"] for f in template.shown_fields}
        for name, message in errors.items():
            messages.error(request, f"{labels[name]}: {message}")
        status = 400
    return render(
        request,
        "apps_approval/form.html",
        {
            "template": template,
            "fields": _form_fields(request.user, template.fields, values, errors),
            "client_id": client_id,
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------
# One request
# ---------------------------------------------------------------------------------------
def _form_rows(approval: Approval, summary: list[dict]) -> list[dict]:
    """The summary with item lists as rows (the selector made select values readable)."""
    kinds = {f["name"]: f.get("type", "text") for f in approval.template.fields}
    rows = []
    for row in summary:
        kind = kinds.get(row["name"])
        row = {**row, "type": kind}
        if kind == "items":
            row["items"] = approval.data.get(row["name"]) or []
        rows.append(row)
    return rows


def _timeline(events: list[dict], steps: list[dict]) -> list[dict]:
    """The audit trail as people read it. A final decision is stored twice (the approver's
    decision, then the request's transition); the two are shown as one line."""
    step_names = {s["index"]: s["name"] for s in steps}
    lines: list[dict] = []
    for event in events:
        changed = event["from_state"] != event["to_state"]
        line = {
            **event,
            "action_label": ACTIONS.get(event["action"], event["action"]),
            "step_name": step_names.get(event["step"]) if event["step"] is not None and not changed else None,
            "from_label": _state_label(Approval.State, event["from_state"]) if changed and event["from_state"] else "",
            "to_label": _state_label(Approval.State, event["to_state"]) if changed else "",
        }
        previous = lines[-1] if lines else None
        if (
            changed
            and previous is not None
            and not previous["to_label"]
            and previous["action"] == event["action"]
            and previous["actor"] == event["actor"]
            and previous["comment"] == event["comment"]
        ):
            previous["from_label"], previous["to_label"] = line["from_label"], line["to_label"]
            continue
        lines.append(line)
    return lines


@login_required
def approval_detail(request, approval_id: int):
    try:
        approval = selectors.approval_get_for_user(user=request.user, approval_id=approval_id)
    except ApplicationError as error:
        messages.error(request, error.detail)
        return redirect("approvals:list")
    detail = selectors.approval_detail(approval, viewer=request.user)
    steps = [
        {
            **step,
            "state_label": _state_label(ApprovalStep.State, step["state"]),
            "mode_label": _state_label(ApprovalStep.Mode, step["mode"]),
            "approvers": [
                {**a, "decision_label": DECISIONS.get(a["decision"], "")}
                for a in step["approvers"]
            ],
        }
        for step in detail["steps"]
    ]
    return render(
        request,
        "apps_approval/detail.html",
        {
            "approval": detail,
            "form_rows": _form_rows(approval, detail["summary"]),
            "steps": steps,
            "timeline": _timeline(detail["events"], detail["steps"]),
        },
    )


@login_required
@require_POST
def approval_decide(request, approval_id: int):
    decision = request.POST.get("decision", "")
    try:
        services.approval_decide(
            user=request.user, approval_id=approval_id, decision=decision, comment=request.POST.get("comment", "")
        )
    except ApplicationError as error:
        messages.error(request, error.detail)
        if error.code == "not_found":
            return redirect("approvals:list")
    else:
        if decision == "approve":
            messages.success(request, _("You approved this request."))
        else:
            messages.success(request, _("You rejected this request."))
    return redirect("approvals:detail", approval_id=approval_id)


@login_required
@require_POST
def approval_withdraw(request, approval_id: int):
    try:
        services.approval_withdraw(user=request.user, approval_id=approval_id, comment=request.POST.get("comment", ""))
    except ApplicationError as error:
        messages.error(request, error.detail)
        if error.code == "not_found":
            return redirect("approvals:list")
    else:
        messages.success(request, _("You withdrew this request."))
    return redirect("approvals:detail", approval_id=approval_id)
