"""The live catalog view: the current Annoy version, plus the fresh embeddings, minus removed products."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from embeddings.engine.index import AnnoyCatalogView, ExactCatalogView
from embeddings.engine.types import FeatureArrays
from embeddings.models import ImageEmbedding
from embeddings.services.index_builder import iter_primary_rows, primary_embeddings
from embeddings.services.storage import colours_from_bytes, spatial_from_bytes, vector_from_bytes
from embeddings.serving.request_cache import active_ids, cached_search

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
        return cached_search(self, query, k, self._search)

    def _search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        total = len(self.fresh) + (len(self.index) if self.index is not None else 0)
        fetch, ranked = k + OVERFETCH, []
        for _ in range(MAX_ROUNDS):
            candidates = self._candidates(query, fetch)
            active = active_ids([pid for pid, _ in candidates])
            ranked = [(pid, sim) for pid, sim in candidates if pid in active][:k]
            if len(ranked) >= k or fetch >= total:
                break
            fetch *= 4
        return np.array([p for p, _ in ranked], dtype=np.int64), np.array([s for _, s in ranked], dtype=np.float32)

    def features(self, product_ids: Sequence[int]) -> FeatureArrays:
        """Features of these active products, in the requested order (fresh vectors win over indexed ones)."""
        active = active_ids(product_ids)
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
        return indexed and bool(active_ids([pid]))


def fresh_since(index: AnnoyCatalogView | None) -> datetime | None:
    """Embeddings at least this new belong in the fresh set: the index's snapshot minus FRESH_OVERLAP (None: all)."""
    if index is None or not index.manifest.get("snapshot_at"):
        return None
    return datetime.fromisoformat(index.manifest["snapshot_at"]) - FRESH_OVERLAP
