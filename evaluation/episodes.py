"""Shared episodes: a target T and a start seed S of the same articleType and gender but another colour."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.data import EvalCatalog

MIN_TYPE_SIZE = 30  # targets come from articleTypes with at least this many products


@dataclass(frozen=True)
class Episode:
    """One simulated shopping task."""

    index: int
    target: int
    start: int


def draw_episodes(catalog: EvalCatalog, n: int, seed: int) -> list[Episode]:
    """n episodes drawn with a fixed random seed (targets whose S-candidates are empty are redrawn)."""
    rng = np.random.default_rng(seed)
    types, counts = np.unique(catalog.article_type, return_counts=True)
    eligible = np.flatnonzero(np.isin(catalog.article_type, types[counts >= MIN_TYPE_SIZE]))
    episodes: list[Episode] = []
    while len(episodes) < n:
        t = int(rng.choice(eligible))
        starts = np.flatnonzero(
            (catalog.article_type == catalog.article_type[t])
            & (catalog.gender == catalog.gender[t])
            & (catalog.colour != catalog.colour[t])
        )
        if len(starts) == 0:
            continue
        s = int(rng.choice(starts))
        episodes.append(Episode(len(episodes), int(catalog.product_ids[t]), int(catalog.product_ids[s])))
    return episodes
