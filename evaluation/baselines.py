"""Whole-item positive/negative baselines as vector databases offer them (Qdrant's average_vector, best_score)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from embeddings.engine.ranking.pool import filtered_search, merge_pools
from embeddings.engine.types import AllowFilter, CatalogView, Slate, SlateItem

POOL_PER_EXAMPLE = 200  # candidates gathered around each example for best_score (exact re-scoring follows)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _vectors(catalog: CatalogView, ids: Sequence[int]) -> np.ndarray:
    feats = catalog.features(list(ids))
    return np.asarray(feats.vectors, dtype=np.float32)


def average_vector_slate(
    catalog: CatalogView,
    *,
    positives: Sequence[int],
    negatives: Sequence[int],
    exclude: Collection[int],
    k: int,
    offset: int = 0,
    allow: AllowFilter | None = None,
) -> Slate:
    """Qdrant's average_vector rule: query = mean(pos) + (mean(pos) - mean(neg)), then plain nearest neighbours."""
    pos = _vectors(catalog, positives)
    if len(pos) == 0:
        return Slate(items=())
    query = pos.mean(axis=0)
    neg = _vectors(catalog, negatives)
    if len(neg):
        query = query + (query - neg.mean(axis=0))
    if not np.any(query):  # positives and negatives cancel exactly: fall back to the positives
        query = pos.mean(axis=0)
    ids, sims = filtered_search(catalog, _unit(query), k + offset, exclude, allow)
    items = tuple(SlateItem(int(i), float(s), "Like the ones you kept") for i, s in zip(ids, sims, strict=True))
    return Slate(items=items[offset : offset + k])


def best_score_slate(
    catalog: CatalogView,
    *,
    positives: Sequence[int],
    negatives: Sequence[int],
    exclude: Collection[int],
    k: int,
    offset: int = 0,
    allow: AllowFilter | None = None,
) -> Slate:
    """Qdrant's best_score rule: a candidate whose best match is a positive ranks above any whose best is negative.

    Among positive-best candidates the higher positive similarity wins; among negative-best ones the lower negative
    similarity wins. Ties (an example both positive and negative) count as positive.
    """
    pos = _vectors(catalog, positives)
    if len(pos) == 0:
        return Slate(items=())
    neg = _vectors(catalog, negatives)
    pools = [filtered_search(catalog, p, POOL_PER_EXAMPLE, exclude, allow)[0] for p in pos]
    ids = merge_pools(pools)
    cand = _vectors(catalog, ids)
    best_pos = (cand @ pos.T).max(axis=1)
    best_neg = (cand @ neg.T).max(axis=1) if len(neg) else np.full(len(ids), -np.inf, dtype=np.float32)
    positive_best = best_pos >= best_neg
    score = np.where(positive_best, 2.0 + best_pos, -best_neg)
    order = np.lexsort((ids, -score))[offset : offset + k]
    items = tuple(SlateItem(int(ids[i]), float(score[i]), "Closer to what you kept") for i in order)
    return Slate(items=items)
