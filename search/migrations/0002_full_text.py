"""Each database's full-text index over MessageDocument.terms.

PostgreSQL: a generated tsvector column (the ``english`` configuration stems English
words; the segmenter's Chinese words pass as they are) with a GIN index. SQLite: an FTS5
table with the documents' rowids (message ids), stemming English words with ``porter``
over ``unicode61``, kept by triggers on the documents' table. Both are made while the
table is new and empty; the messages' table is not touched.
"""

from django.db import migrations

from core.vendor_sql import run_sql_for_vendor

POSTGRESQL = [
    "ALTER TABLE search_messagedocument ADD COLUMN vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', terms)) STORED",
    "CREATE INDEX search_doc_vector ON search_messagedocument USING gin (vector)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS search_doc_vector",
    "ALTER TABLE search_messagedocument DROP COLUMN IF EXISTS vector",
]

SQLITE = [
    "CREATE VIRTUAL TABLE search_messagefts USING fts5("
    "terms, content='search_messagedocument', content_rowid='message_id', tokenize='porter unicode61')",
    """CREATE TRIGGER search_messagedocument_ai AFTER INSERT ON search_messagedocument BEGIN
        INSERT INTO search_messagefts (rowid, terms) VALUES (new.message_id, new.terms);
    END""",
    """CREATE TRIGGER search_messagedocument_ad AFTER DELETE ON search_messagedocument BEGIN
        INSERT INTO search_messagefts (search_messagefts, rowid, terms) VALUES ('delete', old.message_id, old.terms);
    END""",
    """CREATE TRIGGER search_messagedocument_au AFTER UPDATE ON search_messagedocument BEGIN
        INSERT INTO search_messagefts (search_messagefts, rowid, terms) VALUES ('delete', old.message_id, old.terms);
        INSERT INTO search_messagefts (rowid, terms) VALUES (new.message_id, new.terms);
    END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS search_messagedocument_au",
    "DROP TRIGGER IF EXISTS search_messagedocument_ad",
    "DROP TRIGGER IF EXISTS search_messagedocument_ai",
    "DROP TABLE IF EXISTS search_messagefts",
]


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        run_sql_for_vendor(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE},
            {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE},
        ),
    ]
