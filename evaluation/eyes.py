"""The simulated shopper's eyes: pixel-space CIELAB, never the system's embedding (protocol, "eyes")."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PIL import Image

LOOK_SIZE = 32  # look(): images downsampled to 32x32
MASK_SIZE = 224  # difference_mask(): both images at 224x224 ...
MASK_GRID = 8  # ... split into an 8x8 grid
MASK_FRACTION = 0.25  # cells chosen until 25% of the seed's foreground cells
ATTRIBUTE_PENALTY = 25.0  # added to look() per differing articleType / gender / baseColour
BACKGROUND_LIGHTNESS = 95.0  # a cell is foreground when mean L < 95 or mean chroma > 8
BACKGROUND_CHROMA = 8.0
CACHE_IMAGES = 256  # 224x224 LAB images kept in memory for difference_mask()


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 (..., 3) to CIELAB (D65) float32 (..., 3)."""
    c = np.asarray(rgb, dtype=np.float32) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
        dtype=np.float32,
    )
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab.astype(np.float32)


def load_rgb(path: str, size: int) -> np.ndarray:
    """An image as uint8 RGB resized to size x size (area averaging)."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        if img.size != (size, size):
            img = img.resize((size, size), Image.BOX)
        return np.asarray(img, dtype=np.uint8)


def difference_mask_from_lab(seed_lab: np.ndarray, target_lab: np.ndarray) -> np.ndarray:
    """The protocol's difference mask from two (224, 224, 3) CIELAB images: bool (224, 224)."""
    size = seed_lab.shape[0]
    cell = size // MASK_GRID
    dist = np.linalg.norm(seed_lab - target_lab, axis=-1)
    cells = dist.reshape(MASK_GRID, cell, MASK_GRID, cell).mean(axis=(1, 3))
    seed_cells = seed_lab.reshape(MASK_GRID, cell, MASK_GRID, cell, 3).mean(axis=(1, 3))
    chroma = np.hypot(seed_lab[..., 1], seed_lab[..., 2]).reshape(MASK_GRID, cell, MASK_GRID, cell).mean(axis=(1, 3))
    foreground = (seed_cells[..., 0] < BACKGROUND_LIGHTNESS) | (chroma > BACKGROUND_CHROMA)
    n_fg = int(foreground.sum())
    chosen = np.zeros((MASK_GRID, MASK_GRID), dtype=bool)
    if n_fg:
        want = max(1, math.ceil(MASK_FRACTION * n_fg))
        order = np.argsort(-np.where(foreground, cells, -np.inf), axis=None, kind="stable")[:want]
        chosen.flat[order] = True
    return np.kron(chosen, np.ones((cell, cell), dtype=bool)).astype(bool)


class ShopperEyes:
    """look() and difference_mask() over a catalog of images with known attributes."""

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

    def look(self, a: int, b: int) -> float:
        """Pixel distance between two products' 32x32 CIELAB images plus 25 per differing attribute."""
        return float(self.looks([a], b)[0])

    def looks(self, candidates: list[int], target: int) -> np.ndarray:
        """look(c, target) for several candidates at once."""
        rows = np.array([self.row[int(c)] for c in candidates], dtype=np.int64)
        t = self.row[int(target)]
        pixel = np.linalg.norm(self.small[rows] - self.small[t], axis=1)
        differing = (self.attributes[rows] != self.attributes[t]).sum(axis=1)
        return pixel + ATTRIBUTE_PENALTY * differing

    def large_lab(self, product_id: int) -> np.ndarray:
        """The product's 224x224 CIELAB image (LRU-cached)."""
        pid = int(product_id)
        if pid in self._large:
            self._large.move_to_end(pid)
            return self._large[pid]
        lab = rgb_to_lab(load_rgb(self.image_path(pid), MASK_SIZE))
        self._large[pid] = lab
        if len(self._large) > CACHE_IMAGES:
            self._large.popitem(last=False)
        return lab

    def difference_mask(self, seed: int, target: int) -> np.ndarray:
        """Where the seed differs most from the target: bool (224, 224) in the seed image's pixels."""
        return difference_mask_from_lab(self.large_lab(seed), self.large_lab(target))
