"""Queueing images for embedding: chunks of LOOKAWAY_EMBED_BATCH_SIZE enqueued once the transaction commits, and
batches of dead workers queued again."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction

from catalog.models import EmbeddingStatus, ProductImage
from embeddings.services import coordination

logger = logging.getLogger(__name__)


def chunked(ids: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive chunks of at most `size` distinct ids, in order."""
    unique = list(dict.fromkeys(int(i) for i in ids))
    return [unique[start : start + size] for start in range(0, len(unique), max(1, size))]


def _enqueue(batch: list[int], force: bool) -> None:
    """Send one batch; on failure the images stay pending (embed_images picks them up) and the caller goes on."""
    from embeddings.tasks import embed_images_task

    try:
        embed_images_task.delay(batch, force=force)
    except Exception:
        mode = "in-process embedding" if settings.CELERY_TASK_ALWAYS_EAGER else "queueing the embedding task"
        logger.exception("%s failed for %d image(s); they stay pending: run manage.py embed_images", mode, len(batch))


def schedule_embedding(*, image_ids: Sequence[int], batch_size: int | None = None, force: bool = False) -> int:
    """Queue these product images for embedding after the current transaction commits; return the batch count."""
    batches = chunked(image_ids, batch_size or settings.LOOKAWAY_EMBED_BATCH_SIZE)
    for batch in batches:
        transaction.on_commit(lambda batch=batch: _enqueue(batch, force))
    return len(batches)


def embeddings_requeue_orphaned(*, stale_after_seconds: int | None = None, batch_size: int | None = None) -> int:
    """Queue again the batches of workers that died holding them (heartbeat expired); return the images queued.

    Redoing a batch is harmless: images already embedded are skipped and the write is an upsert. Only one sweep
    queues a given batch (the claim is taken with HDEL), so overlapping sweeps do not double the work.
    """
    stale_after = settings.LOOKAWAY_EMBED_STALE_SECONDS if stale_after_seconds is None else stale_after_seconds
    queued = 0
    for claim in coordination.embed_claims_orphaned(older_than_seconds=stale_after):
        images = ProductImage.objects.filter(id__in=claim.image_ids)
        if not claim.force:
            images = images.filter(embedding_status=EmbeddingStatus.PENDING)
        ids = list(images.order_by("id").values_list("id", flat=True))
        if not coordination.embed_claim_take(task_id=claim.task_id):
            continue  # another sweep took it
        for batch in chunked(ids, batch_size or settings.LOOKAWAY_EMBED_BATCH_SIZE):
            _enqueue(batch, claim.force)
        queued += len(ids)
        if ids:
            logger.warning(
                "worker %s died holding embedding batch %s: %d image(s) queued again",
                claim.worker,
                claim.task_id,
                len(ids),
            )
    return queued
