"""Value types shared by the ML core: what an image becomes, and what the index and the engine exchange."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class ImageFeatures:
    """Everything the engine needs about one image, from one forward pass plus its pixels.

    vector:  (D,) float32, L2-normalised global embedding.
    spatial: (G, G, 8) float16, the shape grid of the padded square: edge orientations, texture, fill per cell
             (cell_shapes.shape_grid; computed from the pixels, not by the model).
    colours: (G, G, 3) float16, mean CIELAB colour of each grid cell of the padded square image.
    """

    vector: np.ndarray
    spatial: np.ndarray
    colours: np.ndarray


@dataclass(frozen=True)
class SlateItem:
    """One recommended product with its score and why it is there (ranking.reasons).

    reason: one shopper-facing sentence, specific to this product ("Other colour at the top: navy, not white").
    differences: per distinct painted region, where it was and how this product differs there (RegionDifference).
    same_elsewhere: whether it looks like the seed outside the paint (None: no region feedback).
    heat: (G rows of G) 0..1 per cell, how much it differs inside the painted cells (empty: no region feedback).
    product: the product's record, attached by the caller for display (the engine leaves it None).
    """

    product_id: int
    score: float
    reason: str
    differences: tuple[Any, ...] = ()
    same_elsewhere: bool | None = None
    heat: tuple[tuple[float, ...], ...] = ()
    product: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Slate:
    """A ranked list of recommendations."""

    items: tuple[SlateItem, ...]

    @property
    def product_ids(self) -> list[int]:
        return [item.product_id for item in self.items]


@dataclass(frozen=True)
class FeatureArrays:
    """Features of several products, row i belonging to product_ids[i]."""

    product_ids: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, D) float32, L2-normalised
    spatial: np.ndarray  # (n, G, G, 8) float16, shape grids (cell_shapes)
    colours: np.ndarray  # (n, G, G, 3) float16, CIELAB


class CatalogView(Protocol):
    """What the engine may ask of the indexed catalog (Annoy-backed in production, exact in small tests)."""

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k active products nearest to `query` (cosine): (product_ids int64, similarities float32), best first."""
        ...

    def features(self, product_ids: Sequence[int]) -> FeatureArrays:
        """Stored features of these products (unknown or removed ids are left out of the result)."""
        ...

    def __contains__(self, product_id: int) -> bool: ...


@runtime_checkable
class Backbone(Protocol):
    """What the engine asks of an image model: fit a photo into its square, embed batches of squares."""

    version: str
    input_size: int
    grid: int

    def prepare(self, image: Image.Image) -> np.ndarray:
        """The RGB image fitted into the model's input square: (S, S, 3) uint8."""
        ...

    def forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One pass over uint8 (N, S, S, 3): (vectors (N, D) float32 L2-normalised, feature maps (N, G, G, C))."""
        ...

    def features(
        self,
        batch: np.ndarray,
        colours: Sequence[np.ndarray] | None = None,
        shapes: Sequence[np.ndarray] | None = None,
    ) -> list[ImageFeatures]:
        """Vector, shape grid and colour grid of each square (colours, shapes: grids already computed)."""
        ...


class AllowFilter(Protocol):
    """Which candidate products may be shown: a bool per id, in order (the Django side asks the database)."""

    def __call__(self, product_ids: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class FeedbackSignal:
    """What the engine derived from one region dislike on a seed; persisted with the feedback event.

    cells:  (G, G) float32, the fraction of each feature-map cell covered by the mask.
    arrays: engine-specific derived arrays (masked embedding, region vector, region colour, ...), by name.
    """

    seed_id: int
    cells: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, __seed_id=np.array(self.seed_id), __cells=self.cells, **self.arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FeedbackSignal:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files if not name.startswith("__")}
            return cls(seed_id=int(npz["__seed_id"]), cells=npz["__cells"], arrays=arrays)
