"""Building an index version from the stored embeddings: read in chunks, write, verify, then activate and prune."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import numpy as np
from django.conf import settings
from django.utils import timezone

from embeddings.engine.index import IndexParams, IndexStore, VersionWriter, verify_index_version
from embeddings.engine.index.annoy_build import check_disk_space, estimate_version_bytes
from embeddings.models import ImageEmbedding, IndexVersion
from embeddings.services import coordination
from embeddings.services.index_versions import (
    IndexBuildError,
    index_activate,
    index_prune,
    index_store,
    index_version_record,
)
from embeddings.services.storage import GRID_DTYPE, VECTOR_DTYPE

logger = logging.getLogger(__name__)

# Rows read from the database and written to the arrays per step: bounded memory at any catalog size.
BUILD_CHUNK_ROWS = 2048


def index_params(*, trees: int | None = None, search_k: int | None = None) -> IndexParams:
    """Build parameters from settings, optionally overridden."""
    return IndexParams(
        trees=trees or settings.LOOKAWAY_ANNOY_TREES,
        search_k=settings.LOOKAWAY_ANNOY_SEARCH_K if search_k is None else search_k,
        pca_dim=settings.LOOKAWAY_INDEX_PCA_DIM or None,
        rerank=settings.LOOKAWAY_INDEX_RERANK,
    )


def primary_embeddings(*, backbone_version: str, since: datetime | None = None):
    """Embedding rows of active products, each product's primary image first (lowest position, then id)."""
    rows = ImageEmbedding.objects.filter(backbone_version=backbone_version, image__product__is_active=True)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return rows.order_by("image__product_id", "image__position", "image_id")


def iter_primary_rows(queryset):
    """(product_id, vector, spatial, spatial_shape, colours) once per product, primary image only."""
    last = None
    columns = ("image__product_id", "vector", "spatial", "spatial_shape", "colours")
    for row in queryset.values_list(*columns).iterator(chunk_size=BUILD_CHUNK_ROWS):
        if row[0] != last:
            last = row[0]
            yield row


def _fill(writer: VersionWriter, queryset, progress: Callable[[str, int, int], None] | None, total: int) -> None:
    buffer: list[tuple] = []

    def flush() -> None:
        grid = buffer[0][3][0]
        writer.append(
            np.array([r[0] for r in buffer], dtype=np.int64),
            np.stack([np.frombuffer(bytes(r[1]), VECTOR_DTYPE) for r in buffer]),
            np.stack([np.frombuffer(bytes(r[2]), GRID_DTYPE).reshape(r[3]) for r in buffer]),
            np.stack([np.frombuffer(bytes(r[4]), GRID_DTYPE).reshape(grid, grid, 3) for r in buffer]),
        )
        if progress:
            progress("read", writer.filled, total)
        buffer.clear()

    for row in iter_primary_rows(queryset):
        buffer.append(row)
        if len(buffer) >= BUILD_CHUNK_ROWS:
            flush()
    if buffer:
        flush()


def index_build(
    *,
    backbone_version: str,
    trees: int | None = None,
    search_k: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    blocking: bool = False,
) -> IndexVersion:
    """Build, verify and activate a new index version from every active product's primary embedding."""
    with coordination.rebuild_lock(blocking=blocking):
        return build_locked(
            backbone_version=backbone_version, params=index_params(trees=trees, search_k=search_k), progress=progress
        )


def _discard_leftovers(store: IndexStore) -> None:
    """Remove version directories left without a manifest by builds that died (SIGKILL, SIGBUS on a full disk).

    Called under the rebuild lock (Redis, or a file lock without Redis): no other build is writing one.
    """
    for leftover in store.incomplete():
        logger.warning("removing index version %s left incomplete by a build that died", leftover)
        store.discard(leftover)


def build_locked(*, backbone_version: str, params: IndexParams, progress) -> IndexVersion:
    snapshot_at = timezone.now()
    queryset = primary_embeddings(backbone_version=backbone_version)
    total = queryset.order_by().values("image__product_id").distinct().count()
    first = queryset.values_list("dimension", "spatial_shape").first()
    if not total or first is None:
        raise IndexBuildError(f"no embeddings by backbone {backbone_version} to index: run embed_images first")
    dim, spatial_shape = first
    store = index_store()
    _discard_leftovers(store)
    colour_shape = (spatial_shape[0], spatial_shape[1], 3)
    store.versions_dir.mkdir(parents=True, exist_ok=True)
    needed = estimate_version_bytes(total, dim, tuple(spatial_shape), colour_shape, params)
    try:
        check_disk_space(store.versions_dir, needed)
    except OSError as exc:
        raise IndexBuildError(f"{exc}; the current index stays in service") from exc
    version, directory = store.new_version_dir()
    try:
        writer = VersionWriter(
            directory,
            capacity=total,
            dim=dim,
            spatial_shape=tuple(spatial_shape),
            colour_shape=colour_shape,
        )
        _fill(writer, queryset, progress, total)
        manifest = writer.finish(
            params,
            version=version,
            backbone_version=backbone_version,
            progress=progress,
            snapshot_at=snapshot_at.isoformat(),
        )
        del writer
        verify_index_version(directory)
    except BaseException:
        store.discard(version)
        raise
    record = index_version_record(store=store, version=version, manifest=manifest)
    index_activate(version=version)
    index_prune()
    record.refresh_from_db()
    logger.info("index %s built: %d items in %.1f s", version, record.items, record.build_seconds)
    return record
