"""What a person sees in a slate (protocol v2), measured with a shopper model's eyes, never the engine's features.

For a slate shown on a seed the shopper painted (mask), per slate:
- type kept: share of the slate with the seed's articleType and gender;
- kept outside: mean distance between the seed's and each product's cell descriptors over the seed's unpainted
  foreground cells (lower = the rest of the product was kept);
- changed inside: the same over the painted cells, weighted by how much of each cell was painted (higher = changed
  where the shopper asked).
Distances are in the eyes' own descriptor units, so compare them within one shopper model (plain slate of the same
seed against the slate after feedback), not across models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from evaluation.shoppers.base import GRID, Eyes


def cell_coverage(mask: np.ndarray) -> np.ndarray:
    """(GRID, GRID) share of each cell's pixels that the mask paints."""
    cell = mask.shape[0] // GRID
    return np.asarray(mask, dtype=np.float64).reshape(GRID, cell, GRID, cell).mean(axis=(1, 3))


def what_is_seen(
    eyes: Eyes, same_kind: Callable[[int, int], bool], seed: int, mask: np.ndarray, slate: Sequence[int]
) -> dict[str, float]:
    """type_kept, kept_outside and changed_inside of one slate shown for `seed` painted with `mask`."""
    if not slate:
        return {"type_kept": float("nan"), "kept_outside": float("nan"), "changed_inside": float("nan")}
    inside = cell_coverage(mask)
    outside = np.where(eyes.foreground(seed), 1.0 - inside, 0.0)
    base = eyes.cell_descriptors(seed)
    dist = np.stack([np.linalg.norm(eyes.cell_descriptors(p) - base, axis=-1) for p in slate])  # (n, GRID, GRID)

    def weighted(weights: np.ndarray) -> float:
        total = float(weights.sum())
        return float((dist * weights).sum(axis=(1, 2)).mean() / total) if total > 0 else float("nan")

    return {
        "type_kept": float(np.mean([same_kind(p, seed) for p in slate])),
        "kept_outside": weighted(outside),
        "changed_inside": weighted(inside),
    }
