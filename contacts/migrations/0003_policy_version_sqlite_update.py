"""On SQLite the policy version's triggers set it with UPDATE, not INSERT OR REPLACE.

A trigger's statement takes the conflict clause of the statement that fired it, so under
Django's ``bulk_create(ignore_conflicts=True)`` (an ``INSERT OR IGNORE``) the trigger's
``INSERT OR REPLACE`` became ``OR IGNORE`` and left the version as it was. An UPDATE has
no conflict to resolve. (PostgreSQL's triggers are unaffected and unchanged.)
"""

from importlib import import_module

from django.db import migrations

from core.vendor_sql import run_sql_for_vendor

# The triggers contacts 0002 made, by its own names (a migration's text does not change).
SQLITE_TRIGGERS = import_module("contacts.migrations.0002_policy_version").SQLITE_TRIGGERS


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
