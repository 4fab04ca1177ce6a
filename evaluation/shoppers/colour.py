"""The colour shopper (protocol version 1): eyes in pixel-space CIELAB, never the system's embedding.

look(a, b) = L2 over the two 32x32 CIELAB images + 25 per differing articleType / gender / baseColour.
cell_differences = mean per-pixel CIELAB distance of the 224x224 images over each 28x28 cell; a cell is foreground
when its mean L < 95 or its mean chroma > 8. With the grid brush this is exactly version 1's difference mask.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from evaluation.shoppers.base import GRID, IMAGE_SIZE
from evaluation.shoppers.pixels import load_rgb, rgb_to_lab

LOOK_SIZE = 32  # look(): images downsampled to 32x32
ATTRIBUTE_PENALTY = 25.0  # added to look() per differing articleType / gender / baseColour
BACKGROUND_LIGHTNESS = 95.0  # a cell is foreground when mean L < 95 or mean chroma > 8
BACKGROUND_CHROMA = 8.0
CACHE_IMAGES = 256  # 224x224 LAB images kept in memory


def lab_cells(lab: np.ndarray) -> np.ndarray:
    """(GRID, GRID, 3) mean CIELAB of each cell of a (224, 224, 3) image."""
    cell = lab.shape[0] // GRID
    return lab.reshape(GRID, cell, GRID, cell, 3).mean(axis=(1, 3))


def lab_foreground_pixels(lab: np.ndarray) -> np.ndarray:
    """(224, 224) bool: pixels that are not the near-white, unsaturated studio background."""
    return (lab[..., 0] < BACKGROUND_LIGHTNESS) | (np.hypot(lab[..., 1], lab[..., 2]) > BACKGROUND_CHROMA)


def lab_foreground_cells(lab: np.ndarray) -> np.ndarray:
    """(GRID, GRID) bool: cells whose mean L < 95 or mean chroma > 8."""
    cell = lab.shape[0] // GRID
    chroma = np.hypot(lab[..., 1], lab[..., 2]).reshape(GRID, cell, GRID, cell).mean(axis=(1, 3))
    return (lab_cells(lab)[..., 0] < BACKGROUND_LIGHTNESS) | (chroma > BACKGROUND_CHROMA)


def lab_cell_differences(seed_lab: np.ndarray, target_lab: np.ndarray) -> np.ndarray:
    """(GRID, GRID) mean per-pixel CIELAB distance over each cell."""
    cell = seed_lab.shape[0] // GRID
    return np.linalg.norm(seed_lab - target_lab, axis=-1).reshape(GRID, cell, GRID, cell).mean(axis=(1, 3))


class ColourEyes:
    """look() and per-cell colour differences over a catalog of images with known attributes."""

    name = "colour"

    def __init__(
        self,
        product_ids: np.ndarray,
        small_lab: np.ndarray,
        attributes: np.ndarray,
        image_path: Callable[[int], str],
    ) -> None:
        self.product_ids = np.asarray(product_ids, dtype=np.int64)
        self.row = {int(p): i for i, p in enumerate(self.product_ids)}
        self.small = np.asarray(small_lab, dtype=np.float32).reshape(len(self.product_ids), -1)
        self.attributes = np.asarray(attributes)  # (n, 3) codes of articleType, gender, baseColour
        self.image_path = image_path
        self._large: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cells: dict[int, np.ndarray] = {}  # small (GRID, GRID, 3) grids: kept for every product seen

    @classmethod
    def build(cls, catalog, cache_dir: str | Path) -> ColourEyes:
        """Eyes over an EvalCatalog, with the 32x32 CIELAB images cached as an .npz in cache_dir."""
        cache = Path(cache_dir) / f"look{LOOK_SIZE}.npz"
        small = None
        if cache.exists():
            with np.load(cache) as npz:
                if np.array_equal(npz["product_ids"], catalog.product_ids):
                    small = npz["lab"]
        if small is None:
            small = np.stack([rgb_to_lab(load_rgb(catalog.path(p), LOOK_SIZE)) for p in catalog.product_ids])
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, product_ids=catalog.product_ids, lab=small)
        return cls(catalog.product_ids, small, catalog.attribute_codes(), catalog.path)

    def look(self, a: int, b: int) -> float:
        """Pixel distance between two products' 32x32 CIELAB images plus 25 per differing attribute."""
        return float(self.looks([a], b)[0])

    def looks(self, candidates: Sequence[int], target: int) -> np.ndarray:
        """look(c, target) for several candidates at once."""
        rows = np.array([self.row[int(c)] for c in candidates], dtype=np.int64)
        differing = (self.attributes[rows] != self.attributes[self.row[int(target)]]).sum(axis=1)
        return self.pixel_distances(candidates, target) + ATTRIBUTE_PENALTY * differing

    def pixel_distances(self, candidates: Sequence[int], target: int) -> np.ndarray:
        """L2 between the candidates' and the target's 32x32 CIELAB images (no attribute penalty)."""
        rows = np.array([self.row[int(c)] for c in candidates], dtype=np.int64)
        return np.linalg.norm(self.small[rows] - self.small[self.row[int(target)]], axis=1)

    def large_lab(self, product_id: int) -> np.ndarray:
        """The product's 224x224 CIELAB image (LRU-cached)."""
        pid = int(product_id)
        if pid in self._large:
            self._large.move_to_end(pid)
            return self._large[pid]
        lab = rgb_to_lab(load_rgb(self.image_path(pid), IMAGE_SIZE))
        self._large[pid] = lab
        if len(self._large) > CACHE_IMAGES:
            self._large.popitem(last=False)
        return lab

    def cell_differences(self, seed: int, target: int) -> np.ndarray:
        """Mean CIELAB distance per cell between the seed and the target."""
        return lab_cell_differences(self.large_lab(seed), self.large_lab(target))

    def foreground(self, product: int) -> np.ndarray:
        """Foreground cells of the product photo."""
        return lab_foreground_cells(self.large_lab(product))

    def foreground_pixels(self, product: int) -> np.ndarray:
        """Foreground pixels of the product photo."""
        return lab_foreground_pixels(self.large_lab(product))

    def cell_descriptors(self, product: int) -> np.ndarray:
        """(GRID, GRID, 3) mean CIELAB per cell (memoised: the person-facing figures ask for many products)."""
        pid = int(product)
        if pid not in self._cells:
            self._cells[pid] = lab_cells(self.large_lab(pid))
        return self._cells[pid]
