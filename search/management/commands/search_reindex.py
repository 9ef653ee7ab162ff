"""Index the messages already stored: run once after installing search, and again
whenever the index may have fallen behind. Safe to rerun."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection
from django.db.models import Exists, OuterRef

from messaging.models import Message
from search.indexer import documents_update
from search.models import MessageDocument


class Command(BaseCommand):
    help = (
        "Index every stored message for search, in batches of ids (no lock on the messages' table); "
        "documents that exist are written again, recalled messages' removed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=1000, help="Messages per batch (default 1000).")
        parser.add_argument("--after", type=int, default=0, help="Start after this message id (to resume).")
        parser.add_argument("--quiet", action="store_true", help="No progress line.")
        parser.add_argument(
            "--missing",
            action="store_true",
            help="Only messages that have no document (after a crash, or a history loaded without indexing); "
            "edits the index missed are not looked for.",
        )

    def handle(self, *args, batch: int, after: int, quiet: bool, missing: bool, **options) -> None:
        batch = max(1, batch)
        messages = Message.objects.all()
        if missing:
            messages = messages.exclude(Exists(MessageDocument.objects.filter(message=OuterRef("pk"))))
        total = messages.filter(pk__gt=after).count()
        done = written = 0
        last = after
        progress = _Progress(total, enabled=not quiet, out=self.stderr._out)
        while True:
            # Keyset by id: each batch is one short read of the primary key's index.
            ids = list(messages.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            written += documents_update(ids)
            done += len(ids)
            last = ids[-1]
            progress.show(done, last)
        progress.close()
        if connection.vendor == "postgresql" and done:
            # Fresh planner statistics for the documents just written: a query plan made on
            # the statistics of a much smaller index can be a hundred times slower.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {MessageDocument._meta.db_table}")
        self.stdout.write(f"Indexed {done} messages: {written} documents written, {done - written} recalled left out.")


class _Progress:
    """tqdm's bar when it is installed, else a percentage line on stderr."""

    def __init__(self, total: int, *, enabled: bool, out) -> None:
        self.total, self.enabled, self.out, self.bar, self.shown = total, enabled, out, None, 0
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, unit="msg", file=out)

    def show(self, done: int, last: int) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(done - self.shown)
        else:
            percent = 100 * done // self.total if self.total else 100
            self.out.write(f"\rsearch_reindex: {done}/{self.total} messages ({min(percent, 100)}%), up to id {last}")
            self.out.flush()
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            self.out.write("\n")
