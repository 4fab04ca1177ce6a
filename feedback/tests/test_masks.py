"""Mask decoding, validation, scaling and storage (no database, no model)."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from feedback import masks
from feedback.masks import MaskError, mask_decode
from feedback.tests.conftest import box_mask, png_data_url, rle_counts

SEED = (224, 224)


def decode_error(**kwargs) -> MaskError:
    kwargs.setdefault("image_size", SEED)
    with pytest.raises(MaskError) as info:
        mask_decode(**kwargs)
    return info.value


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L"])
def test_png_modes_decode_the_painted_pixels_and_scale_to_the_seed(mode):
    drawn = box_mask(448, 448, (0.25, 0.5, 0.75, 1.0))
    decoded = mask_decode(mask=png_data_url(drawn, mode=mode), width=448, height=448, image_size=SEED)
    assert decoded.shape == (224, 224) and decoded.dtype == bool
    assert np.array_equal(decoded, box_mask(224, 224, (0.25, 0.5, 0.75, 1.0)))


def test_png_alpha_decides_even_when_colour_is_black():
    pixels = np.zeros((100, 100, 4), dtype=np.uint8)
    pixels[:50, :, 3] = 10  # black but slightly opaque: painted
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGBA").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    decoded = mask_decode(mask=url, width=100, height=100, image_size=(100, 100))
    assert decoded[:50].all() and not decoded[50:].any()


def test_rle_round_trip_upscales_by_nearest_neighbour():
    drawn = box_mask(112, 112, (0.0, 0.0, 0.5, 0.5))
    decoded = mask_decode(rle=rle_counts(drawn), width=112, height=112, image_size=SEED)
    assert np.array_equal(decoded, box_mask(224, 224, (0.0, 0.0, 0.5, 0.5)))


def test_rle_starting_with_painted_pixels_begins_with_zero():
    drawn = box_mask(10, 10, (0.0, 0.0, 1.0, 0.3))
    counts = rle_counts(drawn)
    assert counts[:2] == [0, 30]
    assert mask_decode(rle=counts, width=10, height=10, image_size=(10, 10))[:3].all()


def test_non_square_seed_keeps_rows_and_columns_apart():
    drawn = box_mask(60, 80, (0.0, 0.0, 1.0, 0.25))  # top quarter, portrait display
    decoded = mask_decode(rle=rle_counts(drawn), width=60, height=80, image_size=(300, 400))
    assert decoded.shape == (400, 300)
    assert decoded[:100].all() and not decoded[100:].any()


def test_wrong_png_size_names_both_sizes():
    error = decode_error(mask=png_data_url(box_mask(100, 100, (0, 0, 0.5, 0.5))), width=200, height=200)
    assert error.field == "mask" and "100x100" in error.message and "200x200" in error.message


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"mask": "data:image/png;base64,!!!notbase64", "width": 10, "height": 10}, "mask", "not valid base64"),
        ({"mask": "data:image/jpeg;base64,AAAA", "width": 10, "height": 10}, "mask", "PNG data URL"),
        (
            {"mask": "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode(), "width": 10, "height": 10},
            "mask",
            "not a PNG",
        ),
        (
            {
                "mask": "data:image/png;base64," + base64.b64encode(masks.PNG_SIGNATURE + b"junk").decode(),
                "width": 10,
                "height": 10,
            },
            "mask",
            "corrupt",
        ),
        ({"mask": 123, "width": 10, "height": 10}, "mask", "string"),
        ({"rle": [50, 50, 1], "width": 10, "height": 10}, "rle", "sum to 101"),
        ({"rle": [50, -5, 55], "width": 10, "height": 10}, "rle", "negative"),
        ({"rle": [50, "50"], "width": 10, "height": 10}, "rle", "not an integer"),
        ({"rle": "50,50", "width": 10, "height": 10}, "rle", "list"),
        ({"rle": [100], "width": 10, "height": 10}, "rle", "empty"),
        ({"rle": [0, 100], "width": 10, "height": 10}, "rle", "whole image"),
        ({"rle": [50, 50], "width": 10.5, "height": 10}, "width", "integer"),
        ({"rle": [50, 50], "width": 10, "height": 0}, "height", "between 1 and 4096"),
        ({"rle": [50, 50], "width": 5000, "height": 5000}, "width", "between 1 and 4096"),
        ({"rle": [50, 50], "width": 20, "height": 5}, "width", "aspect ratio"),
        ({"width": 10, "height": 10}, "mask", "exactly one"),
        ({"mask": "data:image/png;base64,", "rle": [100], "width": 10, "height": 10}, "mask", "exactly one"),
    ],
)
def test_bad_masks_are_refused_with_the_field_and_reason(kwargs, field, words):
    error = decode_error(**kwargs)
    assert error.field == field
    assert words in error.message


def test_empty_png_and_oversized_payload_are_refused():
    assert "empty" in decode_error(mask=png_data_url(np.zeros((20, 20), bool)), width=20, height=20).message
    huge = "data:image/png;base64," + "A" * masks.MAX_PAYLOAD_BYTES
    assert "Too large" in decode_error(mask=huge, width=20, height=20).message


def test_a_stroke_too_thin_for_the_seed_resolution_is_refused():
    drawn = np.zeros((2240, 2240), dtype=bool)
    drawn[3, 3] = True  # one displayed pixel, between two seed pixel centres
    assert "too thin" in decode_error(rle=rle_counts(drawn), width=2240, height=2240).message


def test_display_rounding_of_one_pixel_is_accepted():
    drawn = box_mask(301, 300, (0.1, 0.1, 0.4, 0.4))
    assert mask_decode(rle=rle_counts(drawn), width=301, height=300, image_size=SEED).any()


def test_pack_unpack_and_png_export_round_trip():
    mask = box_mask(224, 200, (0.1, 0.2, 0.6, 0.9))
    bits, width, height = masks.mask_pack(mask)
    assert (width, height) == (224, 200) and len(bits) == 224 * 200 // 8
    assert np.array_equal(masks.mask_unpack(bits, width, height), mask)
    with Image.open(io.BytesIO(masks.mask_to_png(mask))) as image:
        assert image.mode == "RGBA" and image.size == (224, 200)
        alpha = np.asarray(image)[:, :, 3]
    assert np.array_equal(alpha == 255, mask) and not alpha[~mask].any()
