"""Glue between the sessions and the engine: the recommender accessor and the database-backed `allow` filter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from feedback.selectors import product_ids_allowed


def recommender():
    """The process's engine (feedback.recommender.get_recommender, looked up per call so tests can swap it)."""
    from feedback import recommender as module

    return module.get_recommender()


class AllowFilter:
    """`allow` for the engine: which candidate ids are active products matching the filters.

    Each call answers with one query for the ids it has not seen yet; the engine may call it several times
    (one per candidate pool, widening when the filter is strict).
    """

    def __init__(self, *, filters: Mapping[str, str]) -> None:
        self.filters = dict(filters)
        self.known: dict[int, bool] = {}
        self.queries = 0

    def __call__(self, product_ids: np.ndarray) -> np.ndarray:
        ids = [int(pid) for pid in np.asarray(product_ids).reshape(-1)]
        missing = [pid for pid in ids if pid not in self.known]
        if missing:
            allowed = product_ids_allowed(product_ids=missing, filters=self.filters)
            self.known.update({pid: pid in allowed for pid in missing})
            self.queries += 1
        return np.fromiter((self.known[pid] for pid in ids), dtype=bool, count=len(ids))
