"""What a send's checks read moves the policy version too (contacts migration 0002), so
that a worker may keep it while the version stays (``messaging.send.cache``): a person
activated or deactivated, or deleted; a conversation deleted (or its kind or direct key
changed); a membership added to a conversation that is not direct, moved or removed.
Triggers in the database do it, so no writer can forget to. Read positions, the
``last_seq`` of a conversation and a person's other fields change nothing here, so every
message and login leaves the version alone.

A direct conversation's two members are added with it, in the transaction that creates
it, so no worker can have kept it without them: beginning one leaves the version alone,
which keeps the first message between two people from resetting every worker's cache
(and from waiting on the version's row behind other writers).
"""

from django.db import migrations

from core.vendor_sql import run_sql_for_vendor

# (table, the events a PostgreSQL statement-level trigger fires on)
POSTGRESQL_STATEMENT_TRIGGERS = [
    ("accounts_user", "DELETE OR TRUNCATE"),
    ("messaging_conversation", "UPDATE OF kind, direct_key OR DELETE OR TRUNCATE"),
    ("messaging_conversationmember", "UPDATE OF conversation_id, user_id OR DELETE OR TRUNCATE"),
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
    """
    CREATE FUNCTION messaging_members_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT FROM added JOIN messaging_conversation AS c ON c.id = added.conversation_id WHERE c.kind <> 'direct'
        ) THEN
            INSERT INTO contacts_policy_version VALUES (1, nextval('contacts_policy_version_seq'))
                ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER messaging_members_added AFTER INSERT ON messaging_conversationmember "
    "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION messaging_members_added()",
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER messaging_members_added ON messaging_conversationmember",
    "DROP FUNCTION messaging_members_added()",
    "DROP TRIGGER contacts_policy_activity_changed ON accounts_user",
    *(f"DROP TRIGGER contacts_policy_changed ON {table}" for table, _events in POSTGRESQL_STATEMENT_TRIGGERS),
]

# (trigger, table, event, condition): SQLite triggers fire per row and take one event each.
SQLITE_TRIGGERS = [
    ("contacts_policy_accounts_user_activity", "accounts_user", "UPDATE OF is_active", "OLD.is_active IS NOT NEW.is_active"),
    ("contacts_policy_accounts_user_delete", "accounts_user", "DELETE", None),
    ("contacts_policy_messaging_conversation_update", "messaging_conversation", "UPDATE OF kind, direct_key", None),
    ("contacts_policy_messaging_conversation_delete", "messaging_conversation", "DELETE", None),
    (
        "contacts_policy_messaging_conversationmember_insert",
        "messaging_conversationmember",
        "INSERT",
        "(SELECT kind FROM messaging_conversation WHERE id = NEW.conversation_id) IS NOT 'direct'",
    ),
    (
        "contacts_policy_messaging_conversationmember_update",
        "messaging_conversationmember",
        "UPDATE OF conversation_id, user_id",
        None,
    ),
    ("contacts_policy_messaging_conversationmember_delete", "messaging_conversationmember", "DELETE", None),
]

# An UPDATE, not INSERT OR REPLACE, which an INSERT OR IGNORE firing it would turn into
# OR IGNORE (contacts migration 0003).
SQLITE = [
    f"CREATE TRIGGER {name} AFTER {event} ON {table} {f'WHEN {condition} ' if condition else ''}"
    "BEGIN UPDATE contacts_policy_version SET version = random() WHERE id = 1; END"
    for name, table, event, condition in SQLITE_TRIGGERS
]

SQLITE_REVERSE = [f"DROP TRIGGER {name}" for name, _table, _event, _condition in SQLITE_TRIGGERS]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_service_accounts"),
        ("contacts", "0003_policy_version_sqlite_update"),
        ("messaging", "0002_message_created_default"),
    ]

    operations = [
        # On another database nothing: a send's checks then read everything every time.
        run_sql_for_vendor(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE}, {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}
        ),
    ]
