"""Embedding product images: one batch at a time, idempotent, bad images failing alone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import EmbeddingStatus, ProductImage
from embeddings.models import ImageEmbedding
from embeddings.services.storage import features_to_fields

logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 500


@dataclass
class EmbedBatchResult:
    """What one batch did: ids embedded, skipped (already done) and failed (with reasons)."""

    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def load_backbone():
    """The process-wide backbone (loaded once; tests substitute a fake here)."""
    from embeddings.serving.backbone import get_backbone

    return get_backbone()


def run_embedder(backbone, sources: list, batch_size: int):
    """(i, ImageFeatures | Exception) for each source, in batches (tests substitute a fake here)."""
    from embeddings.engine.pipeline import embed_files

    return embed_files(backbone, sources, batch_size)


def current_backbone_version() -> str:
    """Version string of the backbone this process embeds with."""
    return load_backbone().version


def images_pending(*, backbone_version: str) -> QuerySet[ProductImage]:
    """Images that need an embedding by this backbone version (never embedded, or embedded by another one)."""
    stale = Q(embedding_status=EmbeddingStatus.DONE) & ~Q(embedded_with=backbone_version)
    return ProductImage.objects.filter(Q(embedding_status=EmbeddingStatus.PENDING) | stale)


def embedding_mark_stale(*, backbone_version: str) -> int:
    """Mark images embedded by another backbone version pending again (after a model change); return the count.

    Failed images stay failed (a photo that cannot be decoded fails with any model): retry them with --failed.
    """
    outdated = ProductImage.objects.filter(embedding_status=EmbeddingStatus.DONE).exclude(
        embedded_with=backbone_version
    )
    return outdated.update(embedding_status=EmbeddingStatus.PENDING, embedding_error="", updated_at=timezone.now())


def embeddings_forget(*, image_ids: Sequence[int]) -> int:
    """Delete every stored embedding (all backbone versions) of these images, whose photo changed; return the count.

    Call it in the transaction that stores the new photo: an index build must never pick up the old photo's vector.
    """
    ids = list(image_ids)
    if not ids:
        return 0
    return ImageEmbedding.objects.filter(image_id__in=ids).delete()[0]


def _image_source(image: ProductImage) -> str:
    if not image.file:
        raise FileNotFoundError("image has no file")
    path = image.file.path
    return path


def embed_images_batch(
    *,
    image_ids: Sequence[int],
    batch_size: int = 32,
    force: bool = False,
    backbone=None,
    on_progress: Callable[[int], None] | None = None,
) -> EmbedBatchResult:
    """Embed these images with the current backbone; skip ones already done by it unless `force`.

    `on_progress(n)` is told of every n images handled (skipped, unreadable, computed) as the batch goes.
    """
    progress = on_progress or (lambda n: None)
    backbone = backbone or load_backbone()
    version = backbone.version
    result = EmbedBatchResult()
    images = list(ProductImage.objects.filter(id__in=list(image_ids)).order_by("id"))
    todo: list[ProductImage] = []
    for image in images:
        already = image.embedding_status == EmbeddingStatus.DONE and image.embedded_with == version
        if already and not force and ImageEmbedding.objects.filter(image=image, backbone_version=version).exists():
            result.skipped.append(image.id)
        else:
            todo.append(image)
    sources, ready = [], []
    for image in todo:
        try:
            sources.append(_image_source(image))
            ready.append(image)
        except (OSError, ValueError) as exc:
            result.failed[image.id] = f"cannot open image: {exc}"[:ERROR_MAX_CHARS]
    progress(len(images) - len(ready))
    computed: dict[int, dict] = {}
    for i, outcome in run_embedder(backbone, sources, batch_size):
        image = ready[i]
        progress(1)
        if isinstance(outcome, Exception):
            result.failed[image.id] = f"{type(outcome).__name__}: {outcome}"[:ERROR_MAX_CHARS]
            continue
        try:
            computed[image.id] = features_to_fields(outcome)
        except (ValueError, TypeError) as exc:
            result.failed[image.id] = f"bad features: {exc}"[:ERROR_MAX_CHARS]
    _store_batch(version=version, computed=computed, failed=result.failed)
    result.done = sorted(computed)
    if result.failed:
        logger.warning("embedding failed for %d image(s): %s", len(result.failed), result.failed)
    return result


@transaction.atomic
def _store_batch(*, version: str, computed: dict[int, dict], failed: dict[int, str]) -> None:
    """Upsert the embeddings and set every image's status, all in one transaction."""
    now = timezone.now()
    rows = [
        ImageEmbedding(image_id=image_id, backbone_version=version, created_at=now, **fields)
        for image_id, fields in computed.items()
    ]
    ImageEmbedding.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["image", "backbone_version"],
        update_fields=["dimension", "vector", "spatial", "spatial_shape", "colours", "created_at"],
    )
    if computed:
        ProductImage.objects.filter(id__in=list(computed)).update(
            embedding_status=EmbeddingStatus.DONE,
            embedded_with=version,
            embedded_at=now,
            embedding_error="",
            updated_at=now,
        )
    for image_id, reason in failed.items():
        ProductImage.objects.filter(id=image_id).update(
            embedding_status=EmbeddingStatus.FAILED, embedding_error=reason, updated_at=now
        )
