"""The shopper-model interface (protocol v2): eyes + brush, and the shopper that combines them.

The engine never sees either. A runner asks a `Shopper` three things: `looks(candidates, target)` (lower = closer to
the target, to pick what to click), `look(a, b)`, and `mask(seed, target, rng)` (the region it paints on the seed
when it asks for "something else"). `rng` is `np.random.default_rng([run_seed, episode, step])`, so every
(episode, step) paints the same mask in every run. The person-facing figures read `eyes.cell_descriptors` and
`eyes.foreground`.

A model from outside this package is any class with a `build(catalog, cache_dir) -> Shopper` class method (or a
callable with that signature), given to `manage.py evaluate --shopper some.module:SomeShopper`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

IMAGE_SIZE = 224  # masks are painted on the seed photo resized to 224 x 224
GRID = 8  # eyes compare products over an 8 x 8 grid of 28 x 28 cells
MASK_FRACTION = 0.25  # a shopper marks the most different quarter of the seed's foreground cells (at least one)


@runtime_checkable
class Eyes(Protocol):
    """How a shopper model sees products (never the engine's embedding)."""

    name: str

    def looks(self, candidates: Sequence[int], target: int) -> np.ndarray:
        """Distance of each candidate to the target as this shopper judges it (lower = closer)."""

    def look(self, a: int, b: int) -> float:
        """Distance between two products."""

    def cell_differences(self, seed: int, target: int) -> np.ndarray:
        """(GRID, GRID) float: how much each cell of the seed differs from the same cell of the target."""

    def foreground(self, product: int) -> np.ndarray:
        """(GRID, GRID) bool: the cells of the product photo that show the product, not the background."""

    def foreground_pixels(self, product: int) -> np.ndarray:
        """(IMAGE_SIZE, IMAGE_SIZE) bool: the product's pixels (for a brush that spills or misses)."""

    def cell_descriptors(self, product: int) -> np.ndarray:
        """(GRID, GRID, D) float: what this shopper sees in each cell (for the person-facing figures)."""


@runtime_checkable
class Brush(Protocol):
    """How a shopper model paints the cells it wants changed."""

    name: str

    def paint(self, cells: np.ndarray, foreground_pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(IMAGE_SIZE, IMAGE_SIZE) bool mask painted for the chosen (GRID, GRID) cells."""


class GridBrush:
    """Version 1's brush: exactly the chosen cells, aligned to the grid."""

    name = "grid"

    def paint(self, cells: np.ndarray, foreground_pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The chosen cells upsampled to the image."""
        cell = IMAGE_SIZE // GRID
        return np.kron(np.asarray(cells, dtype=bool), np.ones((cell, cell), dtype=bool)).astype(bool)


def choose_cells(differences: np.ndarray, foreground: np.ndarray, fraction: float = MASK_FRACTION) -> np.ndarray:
    """(GRID, GRID) bool: the ceil(fraction) foreground cells with the largest difference (at least one, if any)."""
    chosen = np.zeros(foreground.shape, dtype=bool)
    n_fg = int(foreground.sum())
    if n_fg:
        want = max(1, math.ceil(fraction * n_fg))
        order = np.argsort(-np.where(foreground, differences, -np.inf), axis=None, kind="stable")[:want]
        chosen.flat[order] = True
    return chosen


@dataclass
class Shopper:
    """A shopper model: its eyes judge, its brush paints."""

    name: str
    eyes: Eyes
    brush: Brush

    def looks(self, candidates: Sequence[int], target: int) -> np.ndarray:
        """Distances of candidates to the target (lower = closer)."""
        return self.eyes.looks(candidates, target)

    def look(self, a: int, b: int) -> float:
        """Distance between two products."""
        return self.eyes.look(a, b)

    def cells(self, seed: int, target: int) -> np.ndarray:
        """(GRID, GRID) bool: the cells of the seed this shopper wants changed."""
        return choose_cells(self.eyes.cell_differences(seed, target), self.eyes.foreground(seed))

    def mask(self, seed: int, target: int, rng: np.random.Generator) -> np.ndarray:
        """(IMAGE_SIZE, IMAGE_SIZE) bool: the region painted on the seed photo."""
        return self.brush.paint(self.cells(seed, target), self.eyes.foreground_pixels(seed), rng)
