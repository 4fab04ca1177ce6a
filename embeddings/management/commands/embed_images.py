"""manage.py embed_images: compute embeddings for pending (or all, or some) product images."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from catalog.models import ProductImage
from embeddings.services import embed_images_batch, embedding_mark_stale, images_pending, schedule_embedding
from embeddings.services import embedding as embedding_service

# Images handed to the service per call: big enough to keep the pipeline busy, small enough to commit often.
CHUNK_IMAGES = 256
MAX_FAILURES_SHOWN = 20


class Command(BaseCommand):
    help = "Embed product images with the current backbone (pending ones by default)."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--pending", action="store_true", help="images not yet embedded by this backbone (default)")
        which.add_argument("--all", action="store_true", help="re-embed every image")
        which.add_argument("--product", nargs="+", metavar="EXTERNAL_ID", help="only these products' images")
        which.add_argument("--failed", action="store_true", help="retry images that failed before")
        parser.add_argument("--batch-size", type=int, default=None, help="images per forward pass / per task")
        parser.add_argument("--async", dest="run_async", action="store_true", help="enqueue to Celery workers")
        parser.add_argument("--build-index", action="store_true", help="build the index once at the end")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (also off at -v 0 and when not on a terminal)"
        )

    def handle(self, *args, **options):
        from django.conf import settings

        batch_size = options["batch_size"]
        batch_size = settings.LOOKAWAY_EMBED_BATCH_SIZE if batch_size is None else batch_size
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        backbone = embedding_service.load_backbone()
        version = backbone.version
        stale = embedding_mark_stale(backbone_version=version)
        if stale:
            self.stdout.write(f"{stale} image(s) were embedded by another backbone: marked pending for {version}")
        ids = self._image_ids(options, version)
        force = bool(options["all"])
        if not ids:
            self.stdout.write("Nothing to embed.")
        elif options["run_async"]:
            with transaction.atomic():
                batches = schedule_embedding(image_ids=ids, batch_size=batch_size, force=force)
            self.stdout.write(self.style.SUCCESS(f"Queued {len(ids)} image(s) in {batches} task(s)."))
            return
        else:
            show_progress = options["verbosity"] >= 1 and not options["no_progress"]
            self._embed_in_process(ids, backbone, batch_size, force, show_progress)
        if options["build_index"]:
            from django.core.management import call_command

            call_command("build_index", stdout=self.stdout)

    def _image_ids(self, options, version: str) -> list[int]:
        if options["all"]:
            images = ProductImage.objects.all()
        elif options["product"]:
            images = ProductImage.objects.filter(product__external_id__in=options["product"])
            found = set(images.values_list("product__external_id", flat=True))
            for missing in sorted(set(options["product"]) - found):
                self.stderr.write(f"unknown product (or no image): {missing}")
        elif options["failed"]:
            images = ProductImage.objects.filter(embedding_status="failed")
        else:
            images = images_pending(backbone_version=version)
        return list(images.order_by("id").values_list("id", flat=True))

    def _embed_in_process(self, ids: list[int], backbone, batch_size: int, force: bool, show_progress: bool) -> None:
        done = skipped = 0
        failures: dict[int, str] = {}
        # tqdm redraws its line with carriage returns: give it the raw stream, not Django's line-ending wrapper.
        # disable=None: drawn only on a terminal (no bar in logs and pipes).
        stream = getattr(self.stderr, "_out", sys.stderr)
        with tqdm(
            total=len(ids), unit="img", desc="embedding", file=stream, disable=None if show_progress else True
        ) as bar:
            for start in range(0, len(ids), CHUNK_IMAGES):
                chunk = ids[start : start + CHUNK_IMAGES]
                result = embed_images_batch(
                    image_ids=chunk, batch_size=batch_size, force=force, backbone=backbone, on_progress=bar.update
                )
                done, skipped = done + len(result.done), skipped + len(result.skipped)
                failures.update(result.failed)
                bar.update(start + len(chunk) - bar.n)  # unknown ids count as handled
        self.stdout.write(self.style.SUCCESS(f"Embedded {done}, skipped {skipped}, failed {len(failures)}."))
        for image_id, reason in list(failures.items())[:MAX_FAILURES_SHOWN]:
            self.stdout.write(f"  image {image_id}: {reason}")
