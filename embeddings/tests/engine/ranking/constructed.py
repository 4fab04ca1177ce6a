"""Constructed catalogs for the engine's ranking tests: hand-made vectors, grids and colours, and a matching fake."""

from __future__ import annotations

import numpy as np

from embeddings.engine.index.exact import ExactCatalogView
from embeddings.tests.fakes import FAKE_GRID, FakeBackbone

GRID = FAKE_GRID
DIM = 8
CHANNELS = 4


def unit(v) -> np.ndarray:
    """L2-normalised float32 copy."""
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def vec(*head: float) -> np.ndarray:
    """A DIM-long vector starting with `head`, zeros after."""
    out = np.zeros(DIM, dtype=np.float32)
    out[: len(head)] = head
    return out


def fake_backbone() -> FakeBackbone:
    """The shared fake, with vectors and cell features shaped like the constructed catalogs'."""
    return FakeBackbone(dim=DIM, channels=CHANNELS)


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
