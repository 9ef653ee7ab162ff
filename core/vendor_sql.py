"""A migration operation whose SQL depends on the database: triggers, sequences and the
like that each engine spells its own way."""

from django.db import migrations


def run_sql_for_vendor(forward: dict[str, list[str]], backward: dict[str, list[str]]) -> migrations.RunPython:
    """Run ``forward[vendor]`` (``backward[vendor]`` when migrating back), statement by
    statement; nothing on a database that neither names."""

    def run(by_vendor):
        def execute(apps, schema_editor):
            for sql in by_vendor.get(schema_editor.connection.vendor, []):
                schema_editor.execute(sql)

        return execute

    return migrations.RunPython(run(forward), run(backward))
