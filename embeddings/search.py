"""The web process's view of the catalog: the current Annoy version, plus fresh embeddings, minus removed products."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Count, Max

from catalog.models import Product
from embeddings.engine.index import AnnoyCatalogView, ExactCatalogView, IndexStore
from embeddings.engine.types import CatalogView, FeatureArrays
from embeddings.models import ImageEmbedding
from embeddings.services.embedding import current_backbone_version
from embeddings.services.indexing import iter_primary_rows, primary_embeddings
from embeddings.services.storage import colours_from_bytes, spatial_from_bytes, vector_from_bytes

logger = logging.getLogger(__name__)

# An embedding batch committed while a build was reading carries a timestamp taken before its commit, possibly just
# before the build's snapshot: search that margin exactly too (a batch's store transaction takes well under a second).
FRESH_OVERLAP = timedelta(minutes=2)
# Each search round asks the sources for this many more ids than needed; grows while removed products eat into k.
OVERFETCH = 10
MAX_ROUNDS = 4


def _empty_exact() -> ExactCatalogView:
    return ExactCatalogView([], np.zeros((0, 0), np.float32), np.zeros((0,)), np.zeros((0,)))


def load_fresh_view(*, backbone_version: str, since: datetime | None) -> ExactCatalogView:
    """Exact view over products with an embedding newer than `since` (all products if None), primary image each."""
    queryset = primary_embeddings(backbone_version=backbone_version)
    if since is not None:
        changed = ImageEmbedding.objects.filter(backbone_version=backbone_version, created_at__gte=since)
        queryset = queryset.filter(image__product_id__in=changed.values("image__product_id"))
    rows = list(iter_primary_rows(queryset))
    if not rows:
        return _empty_exact()
    grid = rows[0][3][0]
    return ExactCatalogView(
        [r[0] for r in rows],
        np.stack([vector_from_bytes(r[1]) for r in rows]),
        np.stack([spatial_from_bytes(r[2], r[3]) for r in rows]),
        np.stack([colours_from_bytes(r[4], grid) for r in rows]),
    )


def _active(product_ids: Sequence[int]) -> set[int]:
    ids = [int(pid) for pid in product_ids]
    if not ids:
        return set()
    return set(Product.objects.filter(id__in=ids, is_active=True).values_list("id", flat=True))


class LiveCatalogView:
    """CatalogView merging an index version (may be None) with the fresh set; removed products never come out."""

    def __init__(self, *, index: AnnoyCatalogView | None, fresh: ExactCatalogView, backbone_version: str):
        self.index = index
        self.fresh = fresh
        self.backbone_version = backbone_version
        self.version = index.version if index is not None else None

    def _candidates(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        merged: dict[int, float] = {}
        if self.index is not None:
            ids, sims = self.index.search(query, n)
            merged.update(zip(ids.tolist(), sims.tolist(), strict=True))
        if len(self.fresh):
            ids, sims = self.fresh.search(query, n)
            merged.update(zip(ids.tolist(), sims.tolist(), strict=True))  # fresh vectors replace indexed ones
        return sorted(merged.items(), key=lambda item: (-item[1], item[0]))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to k active products nearest to `query` (cosine), best first."""
        total = len(self.fresh) + (len(self.index) if self.index is not None else 0)
        fetch, ranked = k + OVERFETCH, []
        for _ in range(MAX_ROUNDS):
            candidates = self._candidates(query, fetch)
            active = _active([pid for pid, _ in candidates])
            ranked = [(pid, sim) for pid, sim in candidates if pid in active][:k]
            if len(ranked) >= k or fetch >= total:
                break
            fetch *= 4
        return np.array([p for p, _ in ranked], dtype=np.int64), np.array([s for _, s in ranked], dtype=np.float32)

    def features(self, product_ids: Sequence[int]) -> FeatureArrays:
        """Features of these active products, in the requested order (fresh vectors win over indexed ones)."""
        active = _active(product_ids)
        wanted = [int(pid) for pid in product_ids if int(pid) in active]
        parts = [self.fresh.features([p for p in wanted if p in self.fresh])]
        if self.index is not None:
            parts.append(self.index.features([p for p in wanted if p not in self.fresh]))
        parts = [part for part in parts if len(part.product_ids)]
        if not parts:
            return self.fresh.features([])
        row = {int(pid): (i, j) for i, part in enumerate(parts) for j, pid in enumerate(part.product_ids)}
        order = [row[p] for p in wanted if p in row]

        def gather(name: str) -> np.ndarray:
            return np.stack([getattr(parts[i], name)[j] for i, j in order])

        return FeatureArrays(
            product_ids=np.array([parts[i].product_ids[j] for i, j in order], dtype=np.int64),
            vectors=gather("vectors").astype(np.float32),
            spatial=gather("spatial"),
            colours=gather("colours"),
        )

    def __contains__(self, product_id: object) -> bool:
        try:
            pid = int(product_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        indexed = pid in self.fresh or (self.index is not None and pid in self.index)
        return indexed and bool(_active([pid]))


class CatalogViews:
    """Per-process holder of the current LiveCatalogView; reloads when CURRENT or the fresh set changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: LiveCatalogView | None = None
        self._stamp: object = object()
        self._fresh_signature: object = None
        self._checked_at = 0.0

    def get(self) -> LiveCatalogView:
        """The current view; a cheap stat of the pointer decides whether to reload."""
        store = IndexStore(settings.LOOKAWAY_INDEX_DIR)
        stale_fresh = time.monotonic() - self._checked_at >= settings.LOOKAWAY_FRESH_CHECK_SECONDS
        if self._view is None or stale_fresh or store.pointer_stamp() != self._stamp:
            # One thread refreshes; the others keep answering from the view they have (no pause).
            if self._lock.acquire(blocking=self._view is None):
                try:
                    self._refresh(store)
                finally:
                    self._lock.release()
        return self._view  # type: ignore[return-value]

    def _refresh(self, store: IndexStore) -> None:
        backbone_version = current_backbone_version()
        view = self._view
        index = view.index if view is not None and view.backbone_version == backbone_version else None
        stamp = store.pointer_stamp()
        if stamp != self._stamp or view is None or view.backbone_version != backbone_version:
            index = self._load_index(store, backbone_version)
            self._stamp = stamp
            self._fresh_signature = None
        since = _snapshot(index)
        embeddings = ImageEmbedding.objects.filter(backbone_version=backbone_version)
        if since is not None:
            embeddings = embeddings.filter(created_at__gte=since)
        signature = (
            index.version if index else None,
            *embeddings.aggregate(n=Count("id"), last=Max("created_at")).values(),
        )
        if signature != self._fresh_signature or view is None:
            fresh = load_fresh_view(backbone_version=backbone_version, since=since)
            self._fresh_signature = signature
        else:
            fresh = view.fresh
        unchanged = view is not None and view.index is index and view.fresh is fresh
        if not unchanged or view.backbone_version != backbone_version:
            # A new object only when something changed: callers may cache work keyed on the view's identity.
            self._view = LiveCatalogView(index=index, fresh=fresh, backbone_version=backbone_version)
        self._checked_at = time.monotonic()

    @staticmethod
    def _load_index(store: IndexStore, backbone_version: str) -> AnnoyCatalogView | None:
        version = store.current_version()
        if version is None:
            return None
        index = AnnoyCatalogView(store.version_dir(version))
        if index.manifest.get("backbone_version") != backbone_version:
            logger.warning("index %s was built by another backbone: searching the database exactly", version)
            return None
        return index


def _snapshot(index: AnnoyCatalogView | None) -> datetime | None:
    if index is None or not index.manifest.get("snapshot_at"):
        return None
    return datetime.fromisoformat(index.manifest["snapshot_at"]) - FRESH_OVERLAP


_views = CatalogViews()


def get_catalog_view() -> CatalogView:
    """The process-wide catalog view (thread-safe; notices a new index version without restart)."""
    return _views.get()


def reset_catalog_view() -> None:
    """Forget the loaded view (tests, or after changing settings)."""
    global _views
    _views = CatalogViews()
