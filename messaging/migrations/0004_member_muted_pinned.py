"""A member's own mute and pin of a conversation.

SQLite adds a NOT NULL column by rebuilding the table, which drops the table's triggers:
the ones that move the policy version when memberships change (migration 0003) are made
again after it, both ways. (PostgreSQL adds the column in place and keeps them.)
"""

import importlib

from django.db import migrations, models

from core.vendor_sql import run_sql_for_vendor

_version_triggers = importlib.import_module("messaging.migrations.0003_send_checks_version")
MEMBER_TRIGGERS = [
    statement
    for (name, table, _event, _condition), create in zip(_version_triggers.SQLITE_TRIGGERS, _version_triggers.SQLITE)
    if table == "messaging_conversationmember"
    for statement in (f"DROP TRIGGER IF EXISTS {name}", create)
]


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0003_send_checks_version'),
    ]

    operations = [
        # Migrating back, the columns go by rebuilding the table too: the triggers again.
        run_sql_for_vendor({}, {"sqlite": MEMBER_TRIGGERS}),
        migrations.AddField(
            model_name='conversationmember',
            name='muted',
            field=models.BooleanField(default=False, verbose_name='muted'),
        ),
        migrations.AddField(
            model_name='conversationmember',
            name='pinned_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='pinned'),
        ),
        run_sql_for_vendor({"sqlite": MEMBER_TRIGGERS}, {}),
    ]
