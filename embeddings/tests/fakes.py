"""The one fake backbone of the tests: deterministic, fast, and a types.Backbone like the real one (no Django)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from PIL import Image

from embeddings.engine.cell_shapes import SHAPE_CHANNELS
from embeddings.engine.types import ImageFeatures

FAKE_DIM = 1280
FAKE_SIZE = 28
FAKE_GRID = 7
THUMBNAIL = 8  # the vector is a fixed random projection of an 8 x 8 thumbnail of the square


class FakeBackbone:
    """Stands in for the TF backbone: similar photos get close vectors, and nothing needs TensorFlow.

    prepare() resizes the photo to a 28 x 28 square; the vector is a fixed random projection of its 8 x 8 thumbnail;
    each cell's features repeat the cell's red channel (`channels` times); colours are the cells' mean RGB.
    `calls` counts forward passes. Engine tests on constructed catalogs pick `dim` and `channels` to match them.
    """

    input_size = FAKE_SIZE
    grid = FAKE_GRID

    def __init__(self, version: str = "fake-v1", *, dim: int = FAKE_DIM, channels: int = SHAPE_CHANNELS) -> None:
        self.version = version
        self.dim = dim
        self.channels = channels
        self.calls = 0
        self._projection = np.random.default_rng(42).normal(size=(THUMBNAIL * THUMBNAIL * 3, dim)).astype(np.float32)

    def prepare(self, image: Image.Image) -> np.ndarray:
        return np.asarray(image.convert("RGB").resize((FAKE_SIZE, FAKE_SIZE)), dtype=np.uint8)

    def forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        squares = [Image.fromarray(np.asarray(square, dtype=np.uint8)) for square in batch]
        small = np.stack([np.asarray(s.resize((THUMBNAIL, THUMBNAIL)), dtype=np.float32) / 255.0 for s in squares])
        vectors = (small.reshape(len(squares), -1) - 0.5) @ self._projection
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        cells = np.stack([self._cell_colours(s) for s in squares])
        maps = np.repeat(cells[..., :1], self.channels, axis=-1)
        return vectors.astype(np.float32), maps

    def features(
        self,
        batch: np.ndarray,
        colours: Sequence[np.ndarray] | None = None,
        shapes: Sequence[np.ndarray] | None = None,
    ) -> list[ImageFeatures]:
        vectors, maps = self.forward(batch)
        if shapes is not None:
            maps = np.stack([np.asarray(grid, dtype=np.float32) for grid in shapes])
        if colours is None:
            colours = [self._cell_colours(Image.fromarray(np.asarray(square, dtype=np.uint8))) for square in batch]
        return [
            ImageFeatures(vector, cells.astype(np.float16), np.asarray(grid, dtype=np.float16))
            for vector, cells, grid in zip(vectors, maps, colours, strict=True)
        ]

    def _cell_colours(self, square: Image.Image) -> np.ndarray:
        return np.asarray(square.resize((FAKE_GRID, FAKE_GRID)), dtype=np.float32)


def file_features(backbone: FakeBackbone, path: str) -> ImageFeatures:
    """The fake's features of one image file (what the embedding pipeline stores for it)."""
    with Image.open(path) as image:
        return backbone.features(backbone.prepare(image)[None])[0]


def fake_run_embedder(backbone: FakeBackbone, sources: list, batch_size: int) -> Iterator[tuple[int, object]]:
    """Same contract as embed_files: (i, ImageFeatures | Exception) per source."""
    for i, source in enumerate(sources):
        try:
            yield i, file_features(backbone, source)
        except Exception as exc:  # noqa: BLE001 - the contract reports per-image failures
            yield i, exc
