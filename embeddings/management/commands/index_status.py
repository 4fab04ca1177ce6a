"""manage.py index_status: the current index version, the versions on disk and embedding progress."""

from django.core.management.base import BaseCommand

from embeddings.engine.index import read_manifest
from embeddings.selectors import embedding_progress
from embeddings.services.indexing import index_store


class Command(BaseCommand):
    help = "Show the current index version, the versions kept for rollback and embedding progress."

    def handle(self, *args, **options):
        store = index_store()
        current = store.current_version()
        self.stdout.write(f"Index directory: {store.root}")
        self.stdout.write(f"Current version: {current or 'none (searches fall back to exact search)'}")
        for version in reversed(store.versions()):
            manifest = read_manifest(store.version_dir(version))
            mark = "*" if version == current else " "
            self.stdout.write(
                f" {mark} {version}  items={manifest['items']}  trees={manifest['trees']}  "
                f"backbone={manifest['backbone_version']}  created={manifest['created']}"
            )
        self.stdout.write("Embeddings (backbone, status, images):")
        for row in embedding_progress():
            self.stdout.write(f"   {row['embedded_with'] or '-':<40} {row['embedding_status']:<8} {row['n']}")
