"""On SQLite the policy version's triggers set it with UPDATE, not INSERT OR REPLACE.

A trigger's statement takes the conflict clause of the statement that fired it, so under
Django's ``bulk_create(ignore_conflicts=True)`` (an ``INSERT OR IGNORE``) the trigger's
``INSERT OR REPLACE`` became ``OR IGNORE`` and left the version as it was. An UPDATE has
no conflict to resolve. (PostgreSQL's triggers are unaffected and unchanged.)
"""

from django.db import migrations

from imsite.vendor_sql import run_sql_for_vendor

TABLES = [
    "contacts_department",
    "contacts_membership",
    "contacts_visibilityrule",
    "contacts_visibilityrule_targets",
]

# (trigger, table, event), as contacts 0002 named them.
SQLITE_TRIGGERS = [
    (f"contacts_policy_{table}_{event.lower()}", table, event)
    for table in TABLES
    for event in ("INSERT", "UPDATE", "DELETE")
]


def _triggers(body):
    return [
        sql
        for name, table, event in SQLITE_TRIGGERS
        for sql in (f"DROP TRIGGER {name}", f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body}; END")
    ]


SQLITE = _triggers("UPDATE contacts_policy_version SET version = random() WHERE id = 1")
SQLITE_REVERSE = _triggers("INSERT OR REPLACE INTO contacts_policy_version VALUES (1, random())")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0002_policy_version"),
    ]

    operations = [
        run_sql_for_vendor({"sqlite": SQLITE}, {"sqlite": SQLITE_REVERSE}),
    ]
