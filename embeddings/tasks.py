"""Celery tasks of the embeddings app: thin wrappers around services, retried only for transient errors.

Queues are set by CELERY_TASK_ROUTES (embed_images_task -> `embeddings`, rebuild_index_task and
requeue_stale_embeddings_task -> `default`); Celery beat runs the sweep (CELERY_BEAT_SCHEDULE).
"""

from __future__ import annotations

import logging

import redis
from celery import shared_task
from django.db import InterfaceError, OperationalError

from embeddings.services.coordination import RebuildInProgress, embed_release
from embeddings.services.embedding import current_backbone_version, embed_images_batch
from embeddings.services.embedding_scheduling import embeddings_requeue_orphaned
from embeddings.services.index_scheduling import index_rebuild_if_dirty, index_request_rebuild

logger = logging.getLogger(__name__)

# Database or broker hiccups: the work is idempotent, so retry it later with backoff.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def embed_images_task(self, image_ids: list[int], force: bool = False) -> dict:
    """Embed one batch of product images, then request a coalesced index rebuild."""
    try:
        result = embed_images_batch(image_ids=image_ids, force=force)
        if result.done:
            index_request_rebuild()
    finally:
        _release_claim(self.request.id)
    return {"done": len(result.done), "skipped": len(result.skipped), "failed": len(result.failed)}


def _release_claim(task_id: str | None) -> None:
    """Best effort: a claim left behind only makes a later sweep look at images that are no longer pending."""
    if not task_id:
        return
    try:
        embed_release(task_id=task_id)
    except redis.exceptions.RedisError:
        logger.warning("could not release the claim of embedding batch %s", task_id, exc_info=True)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
)
def rebuild_index_task(self, force: bool = False) -> str | None:
    """Build a new index version if embeddings changed since the last one (one rebuild at a time)."""
    try:
        record = index_rebuild_if_dirty(backbone_version=current_backbone_version(), force=force)
    except RebuildInProgress as exc:
        raise self.retry(exc=exc, countdown=30, max_retries=None) from exc
    return record.version if record else None


@shared_task(ignore_result=True)
def requeue_stale_embeddings_task() -> int:
    """Queue again the embedding batches of workers that died (heartbeat expired), instead of waiting an hour."""
    return embeddings_requeue_orphaned()
