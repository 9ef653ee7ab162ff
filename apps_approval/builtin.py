"""The templates every installation starts with, and the demo organisation's routing."""

from django.utils.translation import pgettext_lazy

MANAGER = {"name": "Manager", "approvers": {"kind": "manager"}, "mode": "any"}

LEAVE_TYPES = ["annual", "sick", "personal", "marriage", "parental", "bereavement", "other"]

TEMPLATES = [
    {
        "code": "leave",
        "name": "Leave",
        "description": "Time off: annual, sick or other leave.",
        "order": 1,
        "fields": [
            {"name": "leave_type", "label": "Leave type", "type": "select", "required": True, "options": LEAVE_TYPES},
            {"name": "start", "label": "First day", "type": "date", "required": True},
            {"name": "end", "label": "Last day", "type": "date", "required": True},
            {"name": "reason", "label": "Reason", "type": "textarea", "required": False},
        ],
        "steps": [MANAGER],
    },
    {
        "code": "expense",
        "name": "Expense",
        "description": "Money spent for work, to be paid back.",
        "order": 2,
        "fields": [
            {"name": "amount", "label": "Amount", "type": "number", "required": True, "min": 0.01},
            {"name": "currency", "label": "Currency", "type": "select", "required": True, "options": ["CNY", "USD", "EUR", "GBP", "JPY", "HKD"]},
            {"name": "items", "label": "Items", "type": "items", "required": False},
            {"name": "receipt", "label": "Receipt", "type": "file", "required": False},
        ],
        "steps": [MANAGER],
    },
    {
        "code": "general",
        "name": "General request",
        "description": "Anything else that needs a yes.",
        "order": 3,
        "fields": [
            {"name": "title", "label": "Title", "type": "text", "required": True},
            {"name": "text", "label": "Details", "type": "textarea", "required": True},
        ],
        "steps": [MANAGER],
    },
    {
        "code": "punch_correction",
        "name": "Missed punch correction",
        "description": "Record a check-in or check-out you missed.",
        "order": 4,
        "fields": [
            {"name": "date", "label": "Date", "type": "date", "required": True},
            {"name": "time", "label": "Time", "type": "time", "required": True},
            {"name": "kind", "label": "Punch", "type": "select", "required": True, "options": ["check_in", "check_out"]},
            {"name": "reason", "label": "Reason", "type": "textarea", "required": True},
        ],
        "steps": [MANAGER],
    },
]

# The demo organisation's routing (docs/architecture.md): leave over 3 days adds the president; expenses over 1,000 add hr_lead.
DEMO_STEPS = {
    "leave": [
        MANAGER,
        {"name": "President", "approvers": {"kind": "users", "users": ["president"]}, "mode": "any",
         "condition": {"field": "days", "op": ">", "value": 3}},
    ],
    "expense": [
        MANAGER,
        {"name": "Human Resources", "approvers": {"kind": "users", "users": ["hr_lead"]}, "mode": "any",
         "condition": {"field": "amount", "op": ">", "value": 1000}},
    ],
}

# The built-in texts in the reader's language. A template is data, written in English by
# the migration and the demo; its name, description, field labels, options and step names
# are shown through this table (``builtin_text``), so that each of them reads in the
# language of whoever looks. A text an admin typed is not in it and shows as typed.
BUILTIN_TEXTS = {
    # names and descriptions
    "Leave": pgettext_lazy("approval template", "Leave"),
    "Time off: annual, sick or other leave.": pgettext_lazy("approval template", "Time off: annual, sick or other leave."),
    "Expense": pgettext_lazy("approval template", "Expense"),
    "Money spent for work, to be paid back.": pgettext_lazy("approval template", "Money spent for work, to be paid back."),
    "General request": pgettext_lazy("approval template", "General request"),
    "Anything else that needs a yes.": pgettext_lazy("approval template", "Anything else that needs a yes."),
    "Missed punch correction": pgettext_lazy("approval template", "Missed punch correction"),
    "Record a check-in or check-out you missed.": pgettext_lazy("approval template", "Record a check-in or check-out you missed."),
    # field labels
    "Leave type": pgettext_lazy("approval template", "Leave type"),
    "First day": pgettext_lazy("approval template", "First day"),
    "Last day": pgettext_lazy("approval template", "Last day"),
    "Reason": pgettext_lazy("approval template", "Reason"),
    "Amount": pgettext_lazy("approval template", "Amount"),
    "Currency": pgettext_lazy("approval template", "Currency"),
    "Items": pgettext_lazy("approval template", "Items"),
    "Receipt": pgettext_lazy("approval template", "Receipt"),
    "Title": pgettext_lazy("approval template", "Title"),
    "Details": pgettext_lazy("approval template", "Details"),
    "Date": pgettext_lazy("approval template", "Date"),
    "Time": pgettext_lazy("approval template", "Time"),
    "Punch": pgettext_lazy("approval template", "Punch"),
    # step names
    "Manager": pgettext_lazy("approval template", "Manager"),
    "President": pgettext_lazy("approval template", "President"),
    "Human Resources": pgettext_lazy("approval template", "Human Resources"),
}
# Select options are stored as keys ("annual", "check_in"); these are what people read.
OPTION_TEXTS = {
    "annual": pgettext_lazy("leave type", "Annual"),
    "sick": pgettext_lazy("leave type", "Sick"),
    "personal": pgettext_lazy("leave type", "Personal"),
    "marriage": pgettext_lazy("leave type", "Marriage"),
    "parental": pgettext_lazy("leave type", "Parental"),
    "bereavement": pgettext_lazy("leave type", "Bereavement"),
    "other": pgettext_lazy("leave type", "Other"),
    "check_in": pgettext_lazy("punch", "Check in"),
    "check_out": pgettext_lazy("punch", "Check out"),
}


def builtin_text(text: str) -> str:
    """A template's text in the active language when it is a built-in one, else as written."""
    translated = BUILTIN_TEXTS.get(text) if isinstance(text, str) else None
    return str(translated) if translated is not None else text


def option_text(value: str) -> str:
    """A select option as people read it: a known key in the active language, else the key
    made readable (``check_in`` → "Check in"; options carry no labels of their own)."""
    translated = OPTION_TEXTS.get(value)
    if translated is not None:
        return str(translated)
    text = str(value).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
