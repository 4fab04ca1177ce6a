"""Cheap numpy scoring terms over a candidate pool, comparing grids cell by cell (aligned studio photos)."""

from __future__ import annotations

import numpy as np


def weighted_colour_distance(cands: np.ndarray, ref: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Root weighted mean squared CIELAB distance over cells between candidates (n, G, G, 3) and ref (G, G, 3)."""
    total = float(weights.sum())
    if total <= 0:
        return np.zeros(len(cands), dtype=np.float32)
    diff = np.asarray(cands, dtype=np.float32) - np.asarray(ref, dtype=np.float32)
    sq = (diff * diff).sum(axis=-1)
    return np.sqrt((sq * weights).sum(axis=(1, 2)) / total)


def pairwise_colour_distance(cands: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n, n) root weighted mean squared CIELAB distance between candidates' grids over the weighted cells."""
    total = float(weights.sum())
    n = len(cands)
    if total <= 0 or n == 0:
        return np.zeros((n, n), dtype=np.float32)
    w = np.sqrt(weights / total).astype(np.float32)
    flat = (np.asarray(cands, dtype=np.float32) * w[None, :, :, None]).reshape(n, -1)
    sq = (flat * flat).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T
    return np.sqrt(np.maximum(d2, 0.0))


def resemblance(distance: np.ndarray, scale: float) -> np.ndarray:
    """Soft similarity in (0, 1] from a distance: exp(-(d / scale)^2); bounded, so a penalty never dominates."""
    return np.exp(-np.square(np.asarray(distance, dtype=np.float32) / max(scale, 1e-6)))
