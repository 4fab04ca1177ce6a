"""Celery tasks of the embeddings app: thin wrappers around services, retried only for transient errors.

Queues are set by CELERY_TASK_ROUTES (embed_images_task -> `embeddings`, rebuild_index_task -> `default`).
"""

from __future__ import annotations

import logging

import redis
from celery import shared_task
from django.db import InterfaceError, OperationalError

from embeddings.services.coordination import RebuildInProgress
from embeddings.services.embedding import current_backbone_version, embed_images_batch
from embeddings.services.index_scheduling import index_rebuild_if_dirty, index_request_rebuild

logger = logging.getLogger(__name__)

# Database or broker hiccups: the work is idempotent, so retry it later with backoff.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def embed_images_task(image_ids: list[int], force: bool = False) -> dict:
    """Embed one batch of product images, then request a coalesced index rebuild."""
    result = embed_images_batch(image_ids=image_ids, force=force)
    if result.done:
        index_request_rebuild()
    return {"done": len(result.done), "skipped": len(result.skipped), "failed": len(result.failed)}


@shared_task(
    bind=True,
    acks_late=True,
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
