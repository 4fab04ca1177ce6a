"""manage.py index_status: the current index version (verified), the versions on disk and embedding progress."""

from django.core.management.base import BaseCommand, CommandError

from embeddings.engine.index import IndexVerificationError, read_manifest, verify_index_version
from embeddings.selectors import embedding_progress
from embeddings.services.embedding import current_backbone_version
from embeddings.services.index_versions import index_choose_usable, index_store


class Command(BaseCommand):
    help = (
        "Show the current index version and whether readers can serve it (verified like a web process does), the "
        "versions kept for rollback and embedding progress. Exit status 1 when the index is damaged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--verify-all", action="store_true", help="verify every version on disk, not just CURRENT")

    def handle(self, *args, **options):
        store = index_store()
        choice = index_choose_usable(backbone_version=current_backbone_version(), store=store)
        current = choice.current
        self.stdout.write(f"Index directory: {store.root}")
        self.stdout.write(f"Current version: {current or 'none (searches fall back to exact search)'}")
        for version in reversed(store.versions()):
            mark = "*" if version == current else " "
            try:
                manifest = read_manifest(store.version_dir(version))
                line = (
                    f"items={manifest['items']}  trees={manifest['trees']}  "
                    f"backbone={manifest['backbone_version']}  created={manifest['created']}"
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                line = f"BAD MANIFEST: {exc}"
            if options["verify_all"] and not line.startswith("BAD"):
                try:
                    verify_index_version(store.version_dir(version), samples=2)
                    line += "  verified"
                except IndexVerificationError as exc:
                    line += f"  DAMAGED: {exc}"
            self.stdout.write(f" {mark} {version}  {line}")
        for leftover in store.incomplete():
            self.stdout.write(f"   {leftover}  incomplete (being built, or left by a build that died)")
        degraded = ""
        if choice.degraded:
            for problem in choice.problems:
                self.stdout.write(self.style.ERROR(f"PROBLEM: {problem}"))
            serving = f"version {choice.version}" if choice.view else "exact search over the database"
            degraded = (
                f"DEGRADED: readers serve {serving}. Fix: manage.py rollback_index (serve the last good version) "
                "or manage.py build_index (build a new one)."
            )
            self.stdout.write(self.style.ERROR(degraded))
        elif current:
            self.stdout.write(f"Readers serve: {'version ' + choice.version if choice.view else 'exact search'}")
        self.stdout.write("Embeddings (backbone, status, images):")
        for row in embedding_progress():
            self.stdout.write(f"   {row['embedded_with'] or '-':<40} {row['embedding_status']:<8} {row['n']}")
        if degraded:
            raise CommandError(degraded)
