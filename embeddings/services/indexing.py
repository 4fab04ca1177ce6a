"""Index versions: build from the stored embeddings, verify, swap the CURRENT pointer, roll back, prune."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from embeddings.engine.index import (
    AnnoyCatalogView,
    IndexParams,
    IndexStore,
    VersionWriter,
    read_manifest,
    verify_index_version,
)
from embeddings.engine.index.annoy_build import check_disk_space, estimate_version_bytes
from embeddings.engine.index.store import IndexPointerError
from embeddings.models import ImageEmbedding, IndexVersion
from embeddings.services import coordination
from embeddings.services.storage import GRID_DTYPE, VECTOR_DTYPE

logger = logging.getLogger(__name__)

# How long a claimed rebuild blocks scheduling another one past its countdown. Short, so a worker killed while
# holding the countdown task does not hold back the index for the visibility timeout; a duplicate rebuild is
# harmless (it finds the dirty flag cleared, and the lock serialises builds).
SCHEDULE_GRACE_SECONDS = 60

# Rows read from the database and written to the arrays per step: bounded memory at any catalog size.
BUILD_CHUNK_ROWS = 2048


class IndexBuildError(Exception):
    """An index cannot be built or activated (nothing to index, unknown version, ...)."""


def index_store() -> IndexStore:
    """The index root configured for this deployment."""
    return IndexStore(settings.LOOKAWAY_INDEX_DIR)


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
        return _build_locked(
            backbone_version=backbone_version, params=index_params(trees=trees, search_k=search_k), progress=progress
        )


def _discard_leftovers(store: IndexStore) -> None:
    """Remove version directories left without a manifest by builds that died (SIGKILL, SIGBUS on a full disk).

    Called under the rebuild lock (Redis, or a file lock without Redis): no other build is writing one.
    """
    for leftover in store.incomplete():
        logger.warning("removing index version %s left incomplete by a build that died", leftover)
        store.discard(leftover)


def _build_locked(*, backbone_version: str, params: IndexParams, progress) -> IndexVersion:
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
    record = IndexVersion.objects.create(
        version=version,
        path=str(directory),
        items=manifest["items"],
        dimension=manifest["dim"],
        metric=manifest["metric"],
        trees=manifest["trees"],
        search_k=manifest["search_k"],
        build_seconds=manifest["build_seconds"],
        checksum=manifest["checksum"],
        backbone_version=backbone_version,
        snapshot_at=snapshot_at,
    )
    index_activate(version=version)
    index_prune()
    record.refresh_from_db()
    logger.info("index %s built: %d items in %.1f s", version, record.items, record.build_seconds)
    return record


def index_activate(*, version: str) -> IndexVersion:
    """Point CURRENT at a complete version (atomic file swap) and mark it current in the database."""
    store = index_store()
    if version not in store.versions():
        raise IndexBuildError(f"index version {version} is not on disk")
    store.set_current(version)
    with transaction.atomic():
        IndexVersion.objects.filter(is_current=True).exclude(version=version).update(is_current=False)
        record = IndexVersion.objects.filter(version=version).first()
        if record is None:
            record = _record_from_manifest(store, version)
        record.is_current = True
        record.save(update_fields=["is_current"])
    return record


def _record_from_manifest(store: IndexStore, version: str) -> IndexVersion:
    manifest = read_manifest(store.version_dir(version))
    snapshot = manifest.get("snapshot_at")
    return IndexVersion.objects.create(
        version=version,
        path=str(store.version_dir(version)),
        items=manifest["items"],
        dimension=manifest["dim"],
        metric=manifest["metric"],
        trees=manifest["trees"],
        search_k=manifest["search_k"],
        build_seconds=manifest.get("build_seconds", 0.0),
        checksum=manifest["checksum"],
        backbone_version=manifest["backbone_version"],
        snapshot_at=datetime.fromisoformat(snapshot) if snapshot else None,
    )


def index_rollback(*, to_version: str | None = None) -> IndexVersion:
    """Make the previous version (or `to_version`) current again, after verifying it.

    Without `to_version`, the newest older version that verifies (damaged ones are skipped and reported); with an
    unreadable CURRENT pointer, the newest version that verifies.
    """
    store = index_store()
    versions = store.versions()
    try:
        current = store.current_version()
    except IndexPointerError:
        current = None  # a garbage pointer: any version that verifies is better
    if to_version is not None:
        if to_version not in versions:
            known = ", ".join(versions) or "none"
            raise IndexBuildError(f"index version {to_version} is not on disk (known: {known})")
        candidates = [to_version]
    else:
        candidates = [v for v in reversed(versions) if current is None or v < current]
        if not candidates:
            raise IndexBuildError("no earlier index version to roll back to")
    problems = []
    for version in candidates:
        try:
            verify_index_version(store.version_dir(version))
        except Exception as exc:  # noqa: BLE001 - a damaged version is skipped, with its reason
            problems.append(f"index version {version} failed verification: {exc}")
            logger.error("%s", problems[-1])
            continue
        return index_activate(version=version)
    raise IndexBuildError("; ".join(problems))


def index_prune() -> list[str]:
    """Delete versions beyond LOOKAWAY_INDEX_KEEP_VERSIONS (never the current one) and their records."""
    deleted = index_store().prune(keep=settings.LOOKAWAY_INDEX_KEEP_VERSIONS)
    if deleted:
        IndexVersion.objects.filter(version__in=deleted).delete()
    return deleted


def index_request_rebuild() -> bool:
    """Note that embeddings changed and schedule one coalesced rebuild; True if this call scheduled it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False  # single process (demo, tests): the caller builds once at the end with build_index
    from embeddings.tasks import rebuild_index_task

    delay = settings.LOOKAWAY_INDEX_REBUILD_DELAY
    coordination.index_mark_dirty()
    if not coordination.index_claim_schedule(ttl_seconds=delay + SCHEDULE_GRACE_SECONDS):
        return False
    transaction.on_commit(lambda: rebuild_index_task.apply_async(countdown=delay))
    return True


def index_rebuild_if_dirty(*, backbone_version: str, force: bool = False) -> IndexVersion | None:
    """Run the scheduled rebuild: build only if something changed since the last one (or if forced)."""
    coordination.index_release_schedule()
    with coordination.rebuild_lock():
        if not coordination.index_take_dirty() and not force:
            return None
        try:
            return _build_locked(backbone_version=backbone_version, params=index_params(), progress=None)
        except BaseException:
            coordination.index_mark_dirty()  # try again next time
            raise


@dataclass
class IndexChoice:
    """Which index version readers can serve: the current one if it verifies, else an older verified one, else
    none (exact search over the database); `problems` says what was wrong (empty when all is well)."""

    view: AnnoyCatalogView | None
    current: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def version(self) -> str | None:
        return self.view.version if self.view is not None else None

    @property
    def degraded(self) -> bool:
        return bool(self.problems)


def index_choose_usable(*, backbone_version: str, store: IndexStore | None = None) -> IndexChoice:
    """The version a reader should memory-map, after verifying it (files, sizes, checksum, self-queries).

    A damaged current version (truncated or overwritten file, missing file, bad manifest, unreadable CURRENT) is
    never loaded: the newest older version built by this backbone that verifies is served instead, or none (exact
    search). Fix with `manage.py rollback_index` (makes that fallback current) or `manage.py build_index`.
    """
    store = store or index_store()
    problems: list[str] = []
    try:
        current = store.current_version()
    except IndexPointerError as exc:
        problems.append(str(exc))
        current, candidates = None, list(reversed(store.versions()))
    else:
        if current is None:
            return IndexChoice(view=None, current=None)
        candidates = [current, *(v for v in reversed(store.versions()) if v < current)]
    for version in candidates:
        try:
            view = verify_index_version(store.version_dir(version), samples=2, full=None)
        except Exception as exc:  # noqa: BLE001 - any damage means "do not serve this version"
            problems.append(f"index version {version} is unusable: {exc}")
            continue
        if view.manifest.get("backbone_version") != backbone_version:
            if version == current:
                # Expected after a backbone change: exact search until build_index (not damage).
                return IndexChoice(view=None, current=current, problems=problems)
            continue
        return IndexChoice(view=view, current=current, problems=problems)
    return IndexChoice(view=None, current=current, problems=problems)
