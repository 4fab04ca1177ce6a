"""Value types shared by the ML core: what an image becomes, and what the index and the engine exchange."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImageFeatures:
    """Everything the engine needs about one image, from one forward pass plus its pixels.

    vector:  (D,) float32, L2-normalised global embedding.
    spatial: (G, G, C) float16, the final feature map with channels reduced by the backbone's fixed projection.
    colours: (G, G, 3) float16, mean CIELAB colour of each grid cell of the padded square image.
    """

    vector: np.ndarray
    spatial: np.ndarray
    colours: np.ndarray


@dataclass(frozen=True)
class SlateItem:
    """One recommended product with its score and a short human-readable reason."""

    product_id: int
    score: float
    reason: str


@dataclass(frozen=True)
class Slate:
    """A ranked list of recommendations."""

    items: tuple[SlateItem, ...]

    @property
    def product_ids(self) -> list[int]:
        return [item.product_id for item in self.items]
