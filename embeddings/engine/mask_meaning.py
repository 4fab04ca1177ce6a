"""What a painted mask means on its product photo: a region of the product, the whole product, or nothing usable.

The studio background is what differs little from the photo's border colour. A mask that paints no product pixel,
or too little of the product to say anything, is refused with a message saying so; a mask over (nearly) the whole
product means "not this one" and is taken as a whole-item dislike (the engine then shows the next products like
the seed instead of comparing regions).
"""

from __future__ import annotations

import numpy as np

from embeddings.engine.masking import background_colour

BACKGROUND_TOLERANCE = 24  # a pixel within this of the border colour in every RGB channel is studio background
MIN_PRODUCT_SHARE = 0.01  # less than 1% of the product painted says nothing about which part
WHOLE_ITEM_SHARE = 0.9  # 90% of the product or more: the shopper means the whole product
REGION, WHOLE_ITEM = "region", "whole_item"


class MeaninglessMask(ValueError):
    """The mask cannot steer anything; the message says what to paint instead."""


def product_pixels(square: np.ndarray) -> np.ndarray:
    """(S, S) bool: the pixels of a uint8 RGB square that are not studio background (nor the padding)."""
    square = np.asarray(square, dtype=np.int16)
    background = background_colour(square).astype(np.int16)
    return np.abs(square - background).max(axis=-1) > BACKGROUND_TOLERANCE


def judge_mask(square: np.ndarray, square_mask: np.ndarray) -> str:
    """REGION or WHOLE_ITEM for a mask on the model's square photo; MeaninglessMask when it paints (almost) no product.

    A photo with no background to tell apart (every pixel is product) is judged on the mask's share of the photo.
    """
    painted = np.asarray(square_mask, dtype=bool)
    product = product_pixels(square)
    if not product.any():
        product = np.ones_like(painted)
    on_product = int((painted & product).sum())
    if on_product == 0:
        raise MeaninglessMask(
            "The painted area covers only the background, not the product: paint over the part you don't like."
        )
    share = on_product / int(product.sum())
    if share < MIN_PRODUCT_SHARE:
        raise MeaninglessMask(
            f"The painted area covers only {share:.1%} of the product, too little to tell which part you mean: "
            "paint over more of it."
        )
    return WHOLE_ITEM if share >= WHOLE_ITEM_SHARE else REGION
