"""Shared episodes (protocol v2): a target T and a start seed S of T's articleType and gender.

Two families: `standard` (S has another baseColour than T) and `same-colour` (S shares T's baseColour too, so what
differs is print, shape or detail). Reported separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.data import EvalCatalog

MIN_TYPE_SIZE = 30  # targets come from articleTypes with at least this many products
FAMILIES = ("standard", "same-colour")


@dataclass(frozen=True)
class Episode:
    """One simulated shopping task."""

    index: int
    target: int
    start: int


def draw_episodes(catalog: EvalCatalog, n: int, seed: int, family: str = "standard") -> list[Episode]:
    """n episodes of one family drawn with a fixed random seed (targets without a possible start are redrawn)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown episode family {family!r}: one of {', '.join(FAMILIES)}")
    rng = np.random.default_rng(seed)
    types, counts = np.unique(catalog.article_type, return_counts=True)
    eligible = np.flatnonzero(np.isin(catalog.article_type, types[counts >= MIN_TYPE_SIZE]))
    if len(eligible) == 0:
        raise ValueError(f"no articleType has {MIN_TYPE_SIZE} products or more: the catalog is too small for episodes")
    rows = np.arange(len(catalog.product_ids))
    episodes: list[Episode] = []
    attempts = 0
    while len(episodes) < n:
        attempts += 1
        if attempts > 100 * n:
            raise ValueError(f"could not draw {n} {family} episodes: too few targets have a possible start")
        t = int(rng.choice(eligible))
        same_kind = (catalog.article_type == catalog.article_type[t]) & (catalog.gender == catalog.gender[t])
        same_colour = catalog.colour == catalog.colour[t]
        starts = np.flatnonzero(same_kind & (same_colour if family == "same-colour" else ~same_colour) & (rows != t))
        if len(starts) == 0:
            continue
        s = int(rng.choice(starts))
        episodes.append(Episode(len(episodes), int(catalog.product_ids[t]), int(catalog.product_ids[s])))
    return episodes
