"""Maximal-marginal-relevance selection: a slate that is relevant yet varied where the shopper painted."""

from __future__ import annotations

import numpy as np


def mmr_select(
    scores: np.ndarray, similarity: np.ndarray, k: int, diversity: float, duplicate: np.ndarray | None = None
) -> list[int]:
    """Greedy indices maximising score - diversity * max similarity to those already chosen.

    similarity: (n, n) in [0, 1]; duplicate: optional (n, n) bool, True where two candidates are near-identical
    (a candidate duplicating a chosen one is skipped).
    """
    n = len(scores)
    k = min(k, n)
    chosen: list[int] = []
    if k <= 0:
        return chosen
    available = np.ones(n, dtype=bool)
    max_sim = np.zeros(n, dtype=np.float32)
    for _ in range(k):
        value = np.where(available, scores - diversity * max_sim, -np.inf)
        best = int(np.argmax(value))
        if not np.isfinite(value[best]):
            break
        chosen.append(best)
        available[best] = False
        if duplicate is not None:
            available &= ~duplicate[best]
        max_sim = np.maximum(max_sim, similarity[best])
    return chosen
