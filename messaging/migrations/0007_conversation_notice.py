"""A group's notice.

SQLite adds a NOT NULL column by rebuilding the table, which drops the table's triggers:
the ones that move the policy version when a conversation's kind or direct key changes
or it is deleted (migration 0003) are made again after it, both ways. The one on new
memberships reads the conversation's kind, and SQLite refuses to rename the rebuilt table
into place while a trigger names the missing one: it goes before the rebuild and comes
back after it. (PostgreSQL adds the column in place and keeps them all.)
"""

import importlib

from django.db import migrations, models

from core.vendor_sql import run_sql_for_vendor

_version_triggers = importlib.import_module("messaging.migrations.0003_send_checks_version")
# The triggers on conversations, and those that read them.
_AFFECTED = [
    (name, create)
    for (name, table, _event, condition), create in zip(_version_triggers.SQLITE_TRIGGERS, _version_triggers.SQLITE)
    if table == "messaging_conversation" or "messaging_conversation " in (condition or "")
]
DROP = [f"DROP TRIGGER IF EXISTS {name}" for name, _create in _AFFECTED]
CREATE = [statement for name, create in _AFFECTED for statement in (f"DROP TRIGGER IF EXISTS {name}", create)]


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0006_message_reply_forward_reactions"),
    ]

    operations = [
        # Migrating back, the column goes by rebuilding the table too: the same again.
        run_sql_for_vendor({"sqlite": DROP}, {"sqlite": CREATE}),
        migrations.AddField(
            model_name="conversation",
            name="notice",
            field=models.TextField(blank=True, default="", verbose_name="notice"),
        ),
        run_sql_for_vendor({"sqlite": CREATE}, {"sqlite": DROP}),
    ]
