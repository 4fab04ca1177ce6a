"""How ImageFeatures are stored in ImageEmbedding rows (raw little-endian bytes, shapes alongside)."""

from __future__ import annotations

import numpy as np

from embeddings.engine.types import ImageFeatures

VECTOR_DTYPE = np.dtype("<f4")
GRID_DTYPE = np.dtype("<f2")


def features_to_fields(features: ImageFeatures) -> dict:
    """Model field values for one embedding."""
    vector = np.asarray(features.vector, dtype=VECTOR_DTYPE).reshape(-1)
    spatial = np.asarray(features.spatial, dtype=GRID_DTYPE)
    colours = np.asarray(features.colours, dtype=GRID_DTYPE)
    if not np.all(np.isfinite(vector)):
        raise ValueError("embedding vector is not finite")
    return {
        "dimension": int(vector.shape[0]),
        "vector": vector.tobytes(),
        "spatial": spatial.tobytes(),
        "spatial_shape": list(spatial.shape),
        "colours": colours.tobytes(),
    }


def vector_from_bytes(data: bytes) -> np.ndarray:
    """The float32 vector of a stored embedding."""
    return np.frombuffer(bytes(data), dtype=VECTOR_DTYPE)


def spatial_from_bytes(data: bytes, shape: list[int]) -> np.ndarray:
    """The float16 spatial map of a stored embedding."""
    return np.frombuffer(bytes(data), dtype=GRID_DTYPE).reshape(shape)


def colours_from_bytes(data: bytes, grid: int) -> np.ndarray:
    """The float16 (grid, grid, 3) colour grid of a stored embedding."""
    return np.frombuffer(bytes(data), dtype=GRID_DTYPE).reshape(grid, grid, 3)
