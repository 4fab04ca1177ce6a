"""Cheap numpy terms over a candidate pool, comparing colour grids cell by cell (aligned studio photos)."""

from __future__ import annotations

import numpy as np


def weighted_colour_distance(cands: np.ndarray, ref: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Root weighted mean squared CIELAB distance over cells between candidates (n, G, G, 3) and ref (G, G, 3)."""
    weights = np.asarray(weights, dtype=np.float32)
    total = float(weights.sum())
    if total <= 0:
        return np.zeros(len(cands), dtype=np.float32)
    diff = np.asarray(cands, dtype=np.float32) - np.asarray(ref, dtype=np.float32)
    sq = (diff * diff).sum(axis=-1)
    return np.sqrt((sq * weights).sum(axis=(1, 2)) / total)


def resemblance(distance: np.ndarray, scale: float) -> np.ndarray:
    """Soft similarity in (0, 1] from a distance: exp(-(d / scale)^2)."""
    return np.exp(-np.square(np.asarray(distance, dtype=np.float32) / max(scale, 1e-6)))
