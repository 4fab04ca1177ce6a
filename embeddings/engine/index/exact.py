"""Exact cosine search over in-memory feature arrays: small catalogs, tests and the "fresh" set."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.engine.types import FeatureArrays


def top_k_cosine(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the k rows of `vectors` (L2-normalised) most cosine-similar to `query`, and their sims."""
    n = len(vectors)
    if n == 0 or k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("query vector must be finite and non-zero")
    sims = np.asarray(vectors @ (q / norm), dtype=np.float32)
    k = min(k, n)
    if k < n:
        part = np.argpartition(-sims, k - 1)[:k]
    else:
        part = np.arange(n)
    order = part[np.lexsort((part, -sims[part]))]
    return order.astype(np.int64), sims[order]


class ExactCatalogView:
    """CatalogView by brute force over aligned arrays (row i belongs to product_ids[i])."""

    def __init__(self, product_ids: Sequence[int], vectors: np.ndarray, spatial: np.ndarray, colours: np.ndarray):
        self.product_ids = np.asarray(product_ids, dtype=np.int64).reshape(-1)
        n = len(self.product_ids)
        self.vectors = np.asarray(vectors, dtype=np.float32).reshape(n, -1) if n else np.zeros((0, 0), np.float32)
        self.spatial = np.asarray(spatial)
        self.colours = np.asarray(colours)
        if len(self.spatial) != n or len(self.colours) != n:
            raise ValueError(f"feature arrays must have {n} rows like product_ids")
        if len(np.unique(self.product_ids)) != n:
            raise ValueError("product_ids must be unique")
        self._row = {int(pid): i for i, pid in enumerate(self.product_ids)}

    def __len__(self) -> int:
        return len(self.product_ids)

    def __contains__(self, product_id: object) -> bool:
        try:
            return int(product_id) in self._row  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to k products nearest to `query` by cosine similarity, best first."""
        rows, sims = top_k_cosine(self.vectors, query, k)
        return self.product_ids[rows], sims

    def features(self, product_ids: Sequence[int]) -> FeatureArrays:
        """Stored features of these products in the requested order; unknown ids are left out."""
        rows = [self._row[int(pid)] for pid in product_ids if int(pid) in self._row]
        idx = np.asarray(rows, dtype=np.int64)
        return FeatureArrays(
            product_ids=self.product_ids[idx],
            vectors=np.asarray(self.vectors[idx], dtype=np.float32),
            spatial=np.asarray(self.spatial[idx]),
            colours=np.asarray(self.colours[idx]),
        )
