"""A tiny deterministic fake backbone and a constructed catalog for fast engine tests."""

from __future__ import annotations

import numpy as np
from PIL import Image

from embeddings.engine.index.exact import ExactCatalogView
from embeddings.engine.types import ImageFeatures

SIZE = 28
GRID = 7
DIM = 8
CHANNELS = 4


def unit(v) -> np.ndarray:
    """L2-normalised float32 copy."""
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


class FakeBackbone:
    """prepare() resizes; forward() embeds an image as its mean colour per quadrant (deterministic)."""

    input_size = SIZE
    grid = GRID
    version = "fake/1"

    def __init__(self) -> None:
        self.calls = 0

    def prepare(self, image: Image.Image) -> np.ndarray:
        return np.asarray(image.convert("RGB").resize((SIZE, SIZE)), dtype=np.uint8)

    def forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        batch = np.asarray(batch, dtype=np.float32)
        h = SIZE // 2
        quads = [batch[:, :h, :h], batch[:, :h, h:]]
        vectors = np.concatenate([q.mean(axis=(1, 2)) for q in quads] + [np.ones((len(batch), 2))], axis=1) + 1.0
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        maps = np.ones((len(batch), GRID, GRID, CHANNELS), dtype=np.float32)
        return vectors.astype(np.float32), maps

    def features(self, batch: np.ndarray) -> list[ImageFeatures]:
        vectors, maps = self.forward(batch)
        colours = np.full((GRID, GRID, 3), 50.0, dtype=np.float16)
        return [ImageFeatures(v, m.astype(np.float16), colours) for v, m in zip(vectors, maps, strict=True)]


def grids(n: int, colour=(50.0, 0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Identical spatial grids and uniform colour grids for n products."""
    spatial = np.ones((n, GRID, GRID, CHANNELS), dtype=np.float16)
    colours = np.tile(np.asarray(colour, dtype=np.float16), (n, GRID, GRID, 1))
    return spatial, colours


def catalog(vectors, colours=None, spatial=None, ids=None) -> ExactCatalogView:
    """An ExactCatalogView over constructed rows (ids 1..n unless given)."""
    vectors = np.stack([unit(v) for v in vectors])
    n = len(vectors)
    default_spatial, default_colours = grids(n)
    return ExactCatalogView(
        ids if ids is not None else np.arange(1, n + 1),
        vectors,
        default_spatial if spatial is None else spatial,
        default_colours if colours is None else colours,
    )
