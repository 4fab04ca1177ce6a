"""Queueing images for embedding: chunks of LOOKAWAY_EMBED_BATCH_SIZE, enqueued once the transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction

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
