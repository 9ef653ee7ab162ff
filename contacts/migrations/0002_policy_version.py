"""The policy version: one row whose value changes on every write to the tables the
visibility policy reads, by triggers in the database itself, so that no writer (the admin,
the HR sync, a bulk update, treebeard's raw SQL moving a subtree, a manual fix in psql)
can forget to tell the workers their cached policy is stale (``contacts.policy``).

A value is never used twice, even after a rollback: PostgreSQL takes it from a sequence,
which a rollback does not rewind; SQLite, with one writer and no sequences, takes a
random 64-bit number.
"""

from django.db import migrations

from core.vendor_sql import run_sql_for_vendor

TABLES = [
    "contacts_department",
    "contacts_membership",
    "contacts_visibilityrule",
    "contacts_visibilityrule_targets",
]

POSTGRESQL = [
    "CREATE SEQUENCE contacts_policy_version_seq",
    "CREATE TABLE contacts_policy_version (id smallint PRIMARY KEY, version bigint NOT NULL)",
    "INSERT INTO contacts_policy_version VALUES (1, nextval('contacts_policy_version_seq'))",
    """
    CREATE FUNCTION contacts_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO contacts_policy_version VALUES (1, nextval('contacts_policy_version_seq'))
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
        RETURN NULL;
    END
    $$
    """,
    *(
        f"CREATE TRIGGER contacts_policy_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION contacts_policy_changed()"
        for table in TABLES
    ),
]

POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER contacts_policy_changed ON {table}" for table in TABLES),
    "DROP FUNCTION contacts_policy_changed()",
    "DROP TABLE contacts_policy_version",
    "DROP SEQUENCE contacts_policy_version_seq",
]

# (trigger, table, event): SQLite triggers fire per row and take one event each.
SQLITE_TRIGGERS = [
    (f"contacts_policy_{table}_{event.lower()}", table, event)
    for table in TABLES
    for event in ("INSERT", "UPDATE", "DELETE")
]

SQLITE = [
    "CREATE TABLE contacts_policy_version (id integer PRIMARY KEY, version integer NOT NULL)",
    "INSERT INTO contacts_policy_version VALUES (1, random())",
    *(
        f"CREATE TRIGGER {name} AFTER {event} ON {table} "
        "BEGIN INSERT OR REPLACE INTO contacts_policy_version VALUES (1, random()); END"
        for name, table, event in SQLITE_TRIGGERS
    ),
]

SQLITE_REVERSE = [
    *(f"DROP TRIGGER {name}" for name, _table, _event in SQLITE_TRIGGERS),
    "DROP TABLE contacts_policy_version",
]


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
    ]

    operations = [
        # On another database nothing: the policy is then read afresh every time.
        run_sql_for_vendor(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE}, {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}
        ),
    ]
