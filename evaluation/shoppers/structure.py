"""The structure shopper's eyes (protocol v2): gradient/edge structure and silhouette, not colour.

Per 28x28 cell of the 224x224 photo a descriptor of D = 9 numbers (`structure_cells`):
- 8 unsigned gradient-orientation bins (0..180 degrees, HOG-style, soft-binned, weighted by the Sobel magnitude) of
  the CIELAB lightness L only, so a hue change at equal lightness is invisible; the histogram is L2-normalised with a
  floor (`GRADIENT_FLOOR`) so flat or faintly textured cells stay near zero and a clear edge counts ~1;
- the cell's silhouette fill (share of product pixels, the colour eyes' background rule) times `FILL_WEIGHT`.

cell_differences = L2 between the seed's and the target's cell descriptors (no colour).
look(a, b) = STRUCTURE_SCALE x L2 over the whole 8x8x9 descriptors + COLOUR_WEIGHT x the colour eyes' 32x32 CIELAB
pixel distance + 25 per differing articleType / gender / baseColour (the same penalty as the colour shopper).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.shoppers.base import GRID, IMAGE_SIZE
from evaluation.shoppers.colour import ATTRIBUTE_PENALTY, ColourEyes, lab_foreground_pixels
from evaluation.shoppers.pixels import load_rgb, rgb_to_lab

logger = logging.getLogger(__name__)

ORIENTATION_BINS = 8  # unsigned orientations, 22.5 degrees a bin
# A cell's orientation histogram is divided by max(its L2 norm, GRADIENT_FLOOR). A clean edge of lightness step 27
# across a 28 px cell sums to ~28 x 8 x 27 = 6000 of Sobel magnitude in one bin, so it reaches norm 1; on the catalog
# the white background sums to < 150 (norm ~0), plain fabric to ~2,500-5,000 (norm ~0.2-0.6), printed or folded
# cells to > 20,000 (norm 1: only their edge directions count).
GRADIENT_FLOOR = 6000.0
FILL_WEIGHT = 1.0  # a cell full of product vs. empty differs as much as two unrelated edge directions (~1-1.4)
FOREGROUND_FILL = 0.1  # a cell is foreground when at least 10% of its pixels are product (like mean L < 95)
DESCRIPTOR_SIZE = ORIENTATION_BINS + 1
# look()'s scale, measured with `calibrate` on the 9,000-photo catalog (27,612 random same-articleType pairs): the
# median structure distance is 4.21, the median colour-eyes pixel distance 878. STRUCTURE_SCALE = 878 / 4.21 puts the
# structure term on the colour shopper's scale, so the 25-per-attribute penalty weighs exactly as it does there; colour
# enters as a minor term at a fifth of its own weight (~1/6 of a typical look()).
STRUCTURE_SCALE = 208.8
COLOUR_WEIGHT = 0.2
CACHE_VERSION = 1  # bump when the descriptor changes: the cache file's name carries it
LOG_EVERY = 1000


def sobel(lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sobel x and y gradients of a (H, W) image, edges replicated (no gradient at the border)."""
    p = np.pad(np.asarray(lightness, dtype=np.float32), 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return gx, gy


def orientation_histograms(lightness: np.ndarray) -> np.ndarray:
    """(GRID, GRID, ORIENTATION_BINS) magnitude-weighted unsigned orientation histograms, floor-normalised."""
    size = lightness.shape[0]
    cell = size // GRID
    gx, gy = sobel(lightness)
    magnitude = np.hypot(gx, gy).ravel()
    position = (np.arctan2(gy, gx) % np.pi).ravel() / np.pi * ORIENTATION_BINS - 0.5  # bin centres at k + 0.5
    low = np.floor(position)
    upper_share = position - low
    low = low.astype(np.int64) % ORIENTATION_BINS
    high = (low + 1) % ORIENTATION_BINS
    rows, cols = np.indices((size, size)) // cell
    base = ((rows * GRID + cols) * ORIENTATION_BINS).ravel()
    n = GRID * GRID * ORIENTATION_BINS
    hist = np.bincount(base + low, weights=magnitude * (1 - upper_share), minlength=n)
    hist += np.bincount(base + high, weights=magnitude * upper_share, minlength=n)
    hist = hist.reshape(GRID, GRID, ORIENTATION_BINS)
    norm = np.linalg.norm(hist, axis=-1, keepdims=True)
    return (hist / np.maximum(norm, GRADIENT_FLOOR)).astype(np.float32)


def structure_cells(lab: np.ndarray) -> np.ndarray:
    """(GRID, GRID, DESCRIPTOR_SIZE) per-cell descriptor of a (224, 224, 3) CIELAB image: orientations + fill."""
    cell = lab.shape[0] // GRID
    fill = lab_foreground_pixels(lab).reshape(GRID, cell, GRID, cell).mean(axis=(1, 3))
    return np.concatenate([orientation_histograms(lab[..., 0]), FILL_WEIGHT * fill[..., None]], axis=-1)


def structure_cell_differences(seed_cells: np.ndarray, target_cells: np.ndarray) -> np.ndarray:
    """(GRID, GRID) L2 distance between two products' cell descriptors."""
    return np.linalg.norm(seed_cells - target_cells, axis=-1)


def structure_foreground_cells(cells: np.ndarray) -> np.ndarray:
    """(GRID, GRID) bool: cells at least FOREGROUND_FILL product."""
    return cells[..., -1] >= FILL_WEIGHT * FOREGROUND_FILL


def catalog_structure(catalog, cache_dir: str | Path) -> np.ndarray:
    """(n, GRID, GRID, D) cell descriptors of every catalog photo, computed once and cached as an .npz."""
    cache = Path(cache_dir) / f"structure{GRID}x{GRID}_v{CACHE_VERSION}.npz"
    if cache.exists():
        with np.load(cache) as npz:
            if np.array_equal(npz["product_ids"], catalog.product_ids):
                return npz["cells"]
    cells = np.empty((len(catalog.product_ids), GRID, GRID, DESCRIPTOR_SIZE), dtype=np.float32)
    for i, pid in enumerate(catalog.product_ids):
        cells[i] = structure_cells(rgb_to_lab(load_rgb(catalog.path(pid), IMAGE_SIZE)))
        if (i + 1) % LOG_EVERY == 0:
            logger.info("structure descriptors: %d / %d", i + 1, len(cells))
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(f"{cache.stem}.{os.getpid()}.partial.npz")  # parallel workers never read half a file
    np.savez(partial, product_ids=catalog.product_ids, cells=cells)
    os.replace(partial, cache)
    return cells


class StructureEyes:
    """Sees shape, silhouette and print layout (lightness edges + fill per cell); colour only as a minor look() term.

    Its mask (with `choose_cells`) marks the seed's foreground cells whose edges or silhouette differ most from the
    target's; a cell that differs only in hue is not marked.
    """

    name = "structure"

    def __init__(self, product_ids: np.ndarray, cells: np.ndarray, colour: ColourEyes) -> None:
        self.product_ids = np.asarray(product_ids, dtype=np.int64)
        self.row = {int(p): i for i, p in enumerate(self.product_ids)}
        self.cells = np.asarray(cells, dtype=np.float32).reshape(len(self.product_ids), GRID, GRID, -1)
        self.flat = self.cells.reshape(len(self.product_ids), -1)
        self.colour = colour  # attributes, the 32x32 pixel distance and the LRU of 224x224 images

    @classmethod
    def build(cls, catalog, cache_dir: str | Path) -> StructureEyes:
        """Eyes over an EvalCatalog; descriptors cached in cache_dir (beside the colour eyes' look32.npz)."""
        return cls(catalog.product_ids, catalog_structure(catalog, cache_dir), ColourEyes.build(catalog, cache_dir))

    def structure_distances(self, candidates: Sequence[int], target: int) -> np.ndarray:
        """Unscaled L2 between whole-image structure descriptors."""
        rows = np.array([self.row[int(c)] for c in candidates], dtype=np.int64)
        return np.linalg.norm(self.flat[rows] - self.flat[self.row[int(target)]], axis=1)

    def looks(self, candidates: Sequence[int], target: int) -> np.ndarray:
        """look(c, target) for several candidates at once."""
        rows = np.array([self.colour.row[int(c)] for c in candidates], dtype=np.int64)
        t = self.colour.row[int(target)]
        differing = (self.colour.attributes[rows] != self.colour.attributes[t]).sum(axis=1)
        return (
            STRUCTURE_SCALE * self.structure_distances(candidates, target)
            + COLOUR_WEIGHT * self.colour.pixel_distances(candidates, target)
            + ATTRIBUTE_PENALTY * differing
        )

    def look(self, a: int, b: int) -> float:
        """Structure distance + a minor colour term + 25 per differing attribute."""
        return float(self.looks([a], b)[0])

    def cell_descriptors(self, product: int) -> np.ndarray:
        """(GRID, GRID, 9): 8 orientation bins and the fill of each cell."""
        return self.cells[self.row[int(product)]]

    def cell_differences(self, seed: int, target: int) -> np.ndarray:
        """Structure distance per cell between the seed and the target."""
        return structure_cell_differences(self.cell_descriptors(seed), self.cell_descriptors(target))

    def foreground(self, product: int) -> np.ndarray:
        """Cells at least 10% product."""
        return structure_foreground_cells(self.cell_descriptors(product))

    def foreground_pixels(self, product: int) -> np.ndarray:
        """Product pixels (the colour eyes' background rule)."""
        return lab_foreground_pixels(self.colour.large_lab(product))


def calibrate(eyes: StructureEyes, article_type: np.ndarray, pairs: int = 400_000, seed: int = 0) -> dict[str, float]:
    """Median structure and colour pixel distances between random pairs of products of the same articleType."""
    rng = np.random.default_rng(seed)
    article_type = np.asarray(article_type)
    a = rng.integers(0, len(article_type), pairs)
    b = rng.integers(0, len(article_type), pairs)
    same = (article_type[a] == article_type[b]) & (a != b)
    a, b = a[same], b[same]
    structure = np.linalg.norm(eyes.flat[a] - eyes.flat[b], axis=1)
    colour = np.linalg.norm(eyes.colour.small[a] - eyes.colour.small[b], axis=1)
    return {"pairs": float(len(a)), "structure": float(np.median(structure)), "colour": float(np.median(colour))}
