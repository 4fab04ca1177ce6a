"""What a mask means on a studio photo: a region, the whole product, or nothing the engine can use."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.engine.mask_meaning import REGION, WHOLE_ITEM, MeaninglessMask, judge_mask, product_pixels


def _photo() -> np.ndarray:
    """A 100 x 100 studio photo: near-white background, a dark product in rows and columns 20-80."""
    square = np.full((100, 100, 3), 246, dtype=np.uint8)
    square[20:80, 20:80] = (40, 60, 120)
    square[30:35, 30:70] = (200, 40, 40)  # a red print on it
    return square


def _mask(rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros((100, 100), dtype=bool)
    mask[rows, cols] = True
    return mask


def test_product_pixels_are_what_differs_from_the_border():
    product = product_pixels(_photo())
    assert product.sum() == 60 * 60 and product[50, 50] and not product[5, 5]


def test_a_region_of_the_product_is_a_region():
    assert judge_mask(_photo(), _mask(slice(30, 35), slice(30, 70))) == REGION
    assert judge_mask(_photo(), _mask(slice(0, 40), slice(0, 100))) == REGION  # spill onto the background is fine


def test_the_whole_product_is_a_whole_item_dislike():
    assert judge_mask(_photo(), _mask(slice(18, 82), slice(18, 82))) == WHOLE_ITEM
    assert judge_mask(_photo(), np.ones((100, 100), dtype=bool)) == WHOLE_ITEM


@pytest.mark.parametrize(
    ("mask", "words"),
    [
        (_mask(slice(0, 15), slice(0, 100)), "only the background"),
        (_mask(slice(50, 52), slice(50, 52)), "too little"),  # 4 of 3,600 product pixels
    ],
)
def test_masks_that_say_nothing_are_refused_with_the_reason(mask, words):
    with pytest.raises(MeaninglessMask, match=words):
        judge_mask(_photo(), mask)


def test_a_photo_without_background_is_judged_on_the_whole_photo():
    full = np.full((10, 10, 3), 90, dtype=np.uint8)
    assert judge_mask(full, _mask(slice(0, 10), slice(0, 10))[:10, :10] | np.zeros((10, 10), bool)) == WHOLE_ITEM
    small = np.zeros((10, 10), dtype=bool)
    small[0:3, 0:3] = True
    assert judge_mask(full, small) == REGION
