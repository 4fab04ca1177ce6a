"""manage.py build_index: build, verify and activate a new Annoy index version."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from embeddings.services import index_build
from embeddings.services.coordination import RebuildInProgress
from embeddings.services.embedding import current_backbone_version
from embeddings.services.index_versions import IndexBuildError


class Command(BaseCommand):
    help = "Build a new index version from the stored embeddings and make it current."

    def add_arguments(self, parser):
        parser.add_argument("--trees", type=int, default=settings.LOOKAWAY_ANNOY_TREES)
        parser.add_argument("--search-k", type=int, default=settings.LOOKAWAY_ANNOY_SEARCH_K)
        parser.add_argument("--wait", action="store_true", help="wait for a running rebuild instead of failing")

    def handle(self, *args, **options):
        if options["trees"] < 1:
            raise CommandError("--trees must be at least 1")
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage) or bars.setdefault(stage, tqdm(total=total, desc=stage, unit="item", disable=None))
            bar.update(done - bar.n)

        try:
            record = index_build(
                backbone_version=current_backbone_version(),
                trees=options["trees"],
                search_k=options["search_k"],
                progress=progress,
                blocking=options["wait"],
            )
        except (IndexBuildError, RebuildInProgress) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Index {record.version}: {record.items} items, {record.trees} trees, "
                f"{record.build_seconds:.1f} s, now current."
            )
        )
