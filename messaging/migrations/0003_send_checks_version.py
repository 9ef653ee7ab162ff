"""What a send's checks read moves the policy version too (contacts migration 0002), so
that a worker may keep it while the version stays (``messaging.send_cache``): a person
activated or deactivated, or deleted; a conversation deleted (or its kind or direct key
changed); a membership added, moved or removed. Triggers in the database do it, so no
writer can forget to. Read positions, the ``last_seq`` of a conversation and a person's
other fields change nothing here, so every message and login leaves the version alone.
"""

from django.db import migrations

from imsite.vendor_sql import run_sql_for_vendor

# (table, the event a PostgreSQL statement-level trigger fires on)
POSTGRESQL_STATEMENT_TRIGGERS = [
    ("accounts_user", "DELETE OR TRUNCATE"),
    ("messaging_conversation", "UPDATE OF kind, direct_key OR DELETE OR TRUNCATE"),
    ("messaging_conversationmember", "INSERT OR UPDATE OF conversation_id, user_id OR DELETE OR TRUNCATE"),
]

POSTGRESQL = [
    *(
        f"CREATE TRIGGER contacts_policy_changed AFTER {events} ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION contacts_policy_changed()"
        for table, events in POSTGRESQL_STATEMENT_TRIGGERS
    ),
    # Per row, so that only a real change of is_active counts.
    "CREATE TRIGGER contacts_policy_activity_changed AFTER UPDATE OF is_active ON accounts_user "
    "FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active) EXECUTE FUNCTION contacts_policy_changed()",
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER contacts_policy_activity_changed ON accounts_user",
    *(f"DROP TRIGGER contacts_policy_changed ON {table}" for table, _events in POSTGRESQL_STATEMENT_TRIGGERS),
]

# (trigger, table, event, condition): SQLite triggers fire per row and take one event each.
SQLITE_TRIGGERS = [
    ("contacts_policy_accounts_user_activity", "accounts_user", "UPDATE OF is_active", "OLD.is_active IS NOT NEW.is_active"),
    ("contacts_policy_accounts_user_delete", "accounts_user", "DELETE", None),
    ("contacts_policy_messaging_conversation_update", "messaging_conversation", "UPDATE OF kind, direct_key", None),
    ("contacts_policy_messaging_conversation_delete", "messaging_conversation", "DELETE", None),
    ("contacts_policy_messaging_conversationmember_insert", "messaging_conversationmember", "INSERT", None),
    (
        "contacts_policy_messaging_conversationmember_update",
        "messaging_conversationmember",
        "UPDATE OF conversation_id, user_id",
        None,
    ),
    ("contacts_policy_messaging_conversationmember_delete", "messaging_conversationmember", "DELETE", None),
]

SQLITE = [
    f"CREATE TRIGGER {name} AFTER {event} ON {table} {f'WHEN {condition} ' if condition else ''}"
    "BEGIN INSERT OR REPLACE INTO contacts_policy_version VALUES (1, random()); END"
    for name, table, event, condition in SQLITE_TRIGGERS
]

SQLITE_REVERSE = [f"DROP TRIGGER {name}" for name, _table, _event, _condition in SQLITE_TRIGGERS]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_service_accounts"),
        ("contacts", "0002_policy_version"),
        ("messaging", "0002_message_created_default"),
    ]

    operations = [
        # On another database nothing: a send's checks then read everything every time.
        run_sql_for_vendor(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE}, {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}
        ),
    ]
