"""manage.py rollback_index: make the previous (or a named) index version current again."""

from django.core.management.base import BaseCommand, CommandError

from embeddings.services import index_rollback
from embeddings.services.index_versions import IndexBuildError


class Command(BaseCommand):
    help = "Point CURRENT back at the previous index version (or --to VERSION) after verifying it."

    def add_arguments(self, parser):
        parser.add_argument("--to", dest="version", default=None, help="version name (see index_status)")

    def handle(self, *args, **options):
        try:
            record = index_rollback(to_version=options["version"])
        except IndexBuildError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Index {record.version} ({record.items} items) is current again."))
