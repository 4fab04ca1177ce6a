"""manage.py import_catalog PATH: import a catalog folder (styles.csv + images/) or a CSV file."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError
from tqdm import tqdm

from catalog.services import DEFAULT_BATCH_SIZE, CatalogFileError, catalog_import


class Command(BaseCommand):
    help = (
        "Import products and photos from a folder holding styles.csv and images/<id>.jpg (Fashion Product Images "
        "layout) or from a CSV file (generic layout: id, name, image, attribute columns). Re-running changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a catalog folder with styles.csv, or a CSV file")
        parser.add_argument("--limit", type=int, default=None, help="import only the first N rows")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per transaction")
        parser.add_argument(
            "--deactivate-missing", action="store_true", help="deactivate (never delete) products not in the file"
        )
        parser.add_argument(
            "--no-embed", action="store_true", help="do not queue embeddings: new photos stay pending for a bulk run"
        )

    def handle(
        self, *args, path: Path, limit: int | None, batch_size: int, deactivate_missing: bool, **options
    ) -> None:
        csv_path = path / "styles.csv" if path.is_dir() else path
        if not csv_path.is_file():
            raise CommandError(f"{csv_path} not found: give a folder with styles.csv or a CSV file")
        started = time.monotonic()
        # tqdm redraws its line with carriage returns: give it the raw stream, not Django's line-ending wrapper.
        stream = getattr(self.stderr, "_out", sys.stderr)
        with tqdm(unit="rows", disable=options["verbosity"] < 1, file=stream) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = catalog_import(
                    csv_path=csv_path,
                    limit=limit,
                    batch_size=batch_size,
                    deactivate_missing=deactivate_missing,
                    on_progress=progress,
                    embed=not options["no_embed"],
                )
            except CatalogFileError as exc:
                raise CommandError(f"nothing imported: {exc}") from exc
            except (OperationalError, InterfaceError) as exc:
                raise CommandError(
                    f"lost the database connection after {bar.n} row(s) ({str(exc).strip()}). Batches committed "
                    "before are stored: run the same command again, it is idempotent and completes the import."
                ) from exc
        for problem in report.problems:
            self.stdout.write(str(problem))
        if report.problems_dropped:
            self.stdout.write(f"... and {report.problems_dropped} more problems")
        elapsed = time.monotonic() - started
        style = self.style.SUCCESS if not report.failed else self.style.WARNING
        self.stdout.write(style(f"{report.layout}: {report.summary()} in {elapsed:.1f} s"))
