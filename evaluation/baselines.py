"""Whole-item positive/negative baselines as vector databases offer them (Qdrant's recommend strategies).

`average_vector`, `best_score` and `sum_scores` follow Qdrant's definitions; the session that drives them
(`evaluation.engines.WholeItemSession`) excludes every product already shown, so none can loop on one slate.
"""

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
    similarity wins. A tie (an example both positive and negative) counts as negative, as in Qdrant: a candidate is
    positive-best only when its best positive similarity is strictly greater.
    """
    pos = _vectors(catalog, positives)
    if len(pos) == 0:
        return Slate(items=())
    neg = _vectors(catalog, negatives)
    ids, cand = _candidates(catalog, pos, exclude, allow)
    best_pos = (cand @ pos.T).max(axis=1)
    best_neg = (cand @ neg.T).max(axis=1) if len(neg) else np.full(len(ids), -np.inf, dtype=np.float32)
    score = np.where(best_pos > best_neg, 2.0 + best_pos, -best_neg)
    return _top(ids, score, k, offset, "Closer to what you kept")


def sum_scores_slate(
    catalog: CatalogView,
    *,
    positives: Sequence[int],
    negatives: Sequence[int],
    exclude: Collection[int],
    k: int,
    offset: int = 0,
    allow: AllowFilter | None = None,
) -> Slate:
    """Qdrant's sum_scores rule: score = sum of the similarities to the positives - sum of those to the negatives."""
    pos = _vectors(catalog, positives)
    if len(pos) == 0:
        return Slate(items=())
    neg = _vectors(catalog, negatives)
    ids, cand = _candidates(catalog, pos, exclude, allow)
    score = (cand @ pos.T).sum(axis=1) - ((cand @ neg.T).sum(axis=1) if len(neg) else 0.0)
    return _top(ids, score, k, offset, "Closer to what you kept")


def _candidates(
    catalog: CatalogView, pos: np.ndarray, exclude: Collection[int], allow: AllowFilter | None
) -> tuple[np.ndarray, np.ndarray]:
    """The pooled nearest neighbours of every positive (exact re-scoring follows) and their vectors."""
    ids = merge_pools([filtered_search(catalog, p, POOL_PER_EXAMPLE, exclude, allow)[0] for p in pos])
    return ids, _vectors(catalog, ids)


def _top(ids: np.ndarray, score: np.ndarray, k: int, offset: int, reason: str) -> Slate:
    order = np.lexsort((ids, -score))[offset : offset + k]
    return Slate(items=tuple(SlateItem(int(ids[i]), float(score[i]), reason) for i in order))
