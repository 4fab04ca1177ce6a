"""The web process's view of the catalog: the current Annoy version, plus fresh embeddings, minus removed products."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection
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


def without_indexed_copies(fresh: ExactCatalogView, index: AnnoyCatalogView | None) -> ExactCatalogView:
    """The fresh set minus products whose features the index already holds unchanged.

    The fresh query overlaps the build's snapshot by FRESH_OVERLAP, so right after a build it returns the last
    minutes' embeddings again (2,344 of 9,000 products after the bench catalog's build): searched exactly on every
    request for nothing. Only identical copies are dropped; a product re-embedded differently stays fresh.
    """
    if index is None or not len(fresh):
        return fresh
    ids = fresh.product_ids
    in_index = np.fromiter((int(pid) in index for pid in ids), dtype=bool, count=len(ids))
    if not in_index.any():
        return fresh
    stored = index.features(ids[in_index].tolist())
    same = np.zeros(len(ids), dtype=bool)
    same[in_index] = (
        (fresh.vectors[in_index] == np.asarray(stored.vectors, dtype=np.float32)).all(axis=1)
        & (fresh.spatial[in_index] == stored.spatial).reshape(len(stored.product_ids), -1).all(axis=1)
        & (fresh.colours[in_index] == stored.colours).reshape(len(stored.product_ids), -1).all(axis=1)
    )
    if not same.any():
        return fresh
    keep = ~same
    if not keep.any():
        return _empty_exact()
    return ExactCatalogView(ids[keep], fresh.vectors[keep], fresh.spatial[keep], fresh.colours[keep])


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


class _Snapshot:
    """What one request already knows: products' active flags, and searches done (by view, query and size)."""

    def __init__(self) -> None:
        self.active: dict[int, bool] = {}
        self.searches: dict[tuple[int, bytes], tuple[int, np.ndarray, np.ndarray]] = {}


_current: ContextVar[_Snapshot | None] = ContextVar("lookaway_catalog_snapshot", default=None)


@contextmanager
def active_snapshot() -> Iterator[None]:
    """Inside this block, read each product's `is_active` at most once and run each search once (one request sees
    one catalog).

    The engine asks "which of these are active?" many times per slate (the seed several times, each candidate pool,
    then the features of the merged pools), and may search twice around the same vector (the seed pool and the query
    pool when the query is the seed): without a snapshot each is a query or a search. Nested blocks share the
    outermost snapshot. Outside any block every question goes to the database, so a product deactivated a moment
    ago is never recommended by a later call.
    """
    if _current.get() is not None:
        yield
        return
    token = _current.set(_Snapshot())
    try:
        yield
    finally:
        _current.reset(token)


def note_active(product_ids: Sequence[int]) -> None:
    """Tell the current snapshot (if any) that the caller just read these products as active: no query for them."""
    snapshot = _current.get()
    if snapshot is not None:
        snapshot.active.update((int(pid), True) for pid in product_ids)


def _active(product_ids: Sequence[int]) -> set[int]:
    ids = [int(pid) for pid in product_ids]
    if not ids:
        return set()
    snapshot = _current.get()
    if snapshot is None:
        return _query_active(ids)
    known = snapshot.active
    missing = [pid for pid in dict.fromkeys(ids) if pid not in known]
    if missing:
        active = _query_active(missing)
        known.update((pid, pid in active) for pid in missing)
    return {pid for pid in ids if known[pid]}


def _query_active(ids: Sequence[int]) -> set[int]:
    if connection.vendor == "postgresql":
        # One array parameter instead of a few hundred: a third of the ORM's CPU for the pools' candidate lists.
        # Sent as a typed array literal: psycopg2 would send a list as ARRAY[1, 2, ...] of int4, which PostgreSQL
        # compares with the bigint key one element at a time (15 ms for 200 ids, 30 ms for 400; 3 ms this way).
        table, pk = Product._meta.db_table, Product._meta.pk.column
        literal = "{" + ",".join(str(int(pid)) for pid in ids) + "}"
        with connection.cursor() as cursor:
            active = Product._meta.get_field("is_active").column
            cursor.execute(f'SELECT "{pk}" FROM "{table}" WHERE "{pk}" = ANY(%s::bigint[]) AND "{active}"', [literal])
            return {row[0] for row in cursor.fetchall()}
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
        snapshot = _current.get()
        if snapshot is None:
            return self._search(query, k)
        key = (id(self), np.ascontiguousarray(query, dtype=np.float32).tobytes())
        done = snapshot.searches.get(key)
        if done is not None and done[0] >= k:  # the same vector searched wider already: its best k are these
            return done[1][:k], done[2][:k]
        ids, sims = self._search(query, k)
        snapshot.searches[key] = (k, ids, sims)
        return ids, sims

    def _search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
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
        if len(parts) == 1:  # the usual case (all from the index, or all fresh): already in the requested order
            part = parts[0]
            return FeatureArrays(
                part.product_ids, part.vectors.astype(np.float32, copy=False), part.spatial, part.colours
            )
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
            fresh = without_indexed_copies(load_fresh_view(backbone_version=backbone_version, since=since), index)
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
        """The verified current version; if it is damaged, an older verified one or None (exact search), logged."""
        from embeddings.services.indexing import index_choose_usable

        choice = index_choose_usable(backbone_version=backbone_version, store=store)
        for problem in choice.problems:
            logger.error("%s", problem)
        if choice.degraded:
            serving = f"index version {choice.version}" if choice.view else "exact search over the database"
            logger.error(
                "index %s is damaged: serving %s; fix with manage.py rollback_index or manage.py build_index",
                choice.current or "pointer",
                serving,
            )
        elif choice.current is not None and choice.view is None:
            logger.warning("index %s was built by another backbone: searching the database exactly", choice.current)
        return choice.view


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
