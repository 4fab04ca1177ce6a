"""Candidate retrieval from a CatalogView with exclusions and an `allow` filter."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from embeddings.engine.types import AllowFilter, CatalogView

MAX_WIDENINGS = 6  # each widening doubles k; beyond 64x the filter is too strict to be worth searching further


def filtered_search(
    catalog: CatalogView,
    query: np.ndarray,
    want: int,
    exclude: Collection[int] = (),
    allow: AllowFilter | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `want` nearest products to `query` that are not excluded and pass `allow`, best first."""
    excluded = np.fromiter((int(x) for x in exclude), dtype=np.int64)
    k = max(want + len(excluded), 1)
    size = len(catalog) if hasattr(catalog, "__len__") else None
    for _ in range(MAX_WIDENINGS + 1):
        ids, sims = catalog.search(query, k)
        ids = np.asarray(ids, dtype=np.int64)
        sims = np.asarray(sims, dtype=np.float32)
        keep = ~np.isin(ids, excluded)
        if allow is not None and len(ids):
            keep &= np.asarray(allow(ids), dtype=bool)
        if keep.sum() >= want or len(ids) < k or (size is not None and k >= size):
            return ids[keep][:want], sims[keep][:want]
        k *= 2
    return ids[keep][:want], sims[keep][:want]


def merge_pools(pools: Sequence[np.ndarray]) -> np.ndarray:
    """Union of candidate id arrays, first occurrence order kept."""
    if not pools:
        return np.empty(0, dtype=np.int64)
    ids = np.concatenate([np.asarray(p, dtype=np.int64) for p in pools])
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]
