"""The templates every installation starts with, and the demo organisation's routing."""

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
