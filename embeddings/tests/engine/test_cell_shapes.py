"""The shape grid: edge orientations, texture and fill per cell, from the pixels."""

import numpy as np
import pytest
from PIL import Image

from embeddings.engine.cell_shapes import ORIENTATIONS, SHAPE_CHANNELS, shape_grid
from embeddings.tests.conftest import catalog_square

WHITE = 255


def blank(size=224):
    return np.full((size, size, 3), WHITE, dtype=np.uint8)


def test_background_cells_are_zero_and_product_cells_are_filled():
    square = blank()
    square[70:150, 70:150] = (20, 30, 120)  # a navy block over cells 2..4 (cell edges at 64, 96, 128, 160)
    grid = shape_grid(square, 7).astype(np.float32)
    assert grid.shape == (7, 7, SHAPE_CHANNELS) and shape_grid(square, 7).dtype == np.float16
    assert np.allclose(grid[0, 0], 0, atol=1e-3)  # studio white: no edges, no texture, no product
    assert grid[3, 3, -1] == pytest.approx(1.0)  # inside the block: all product ...
    assert grid[3, 3, ORIENTATIONS] < 0.05  # ... and flat: no texture
    assert 0 < grid[2, 2, -1] < 1  # the block's corner cell is partly product


def test_edge_direction_is_seen_whatever_the_colour():
    vertical, horizontal = blank(), blank()
    vertical[:, 112:] = (200, 30, 30)  # a red half: a vertical edge at x = 112
    horizontal[112:, :] = (200, 30, 30)
    v, h = shape_grid(vertical, 7).astype(np.float32), shape_grid(horizontal, 7).astype(np.float32)
    # the edge runs through cell column 3 (x 96..128) / row 3: the same texture, other orientations
    assert v[2, 3, ORIENTATIONS] == pytest.approx(h[3, 2, ORIENTATIONS], abs=1e-3)
    assert np.argmax(v[2, 3, :ORIENTATIONS]) != np.argmax(h[3, 2, :ORIENTATIONS])
    # a hue change at equal lightness is an edge too (the strongest CIELAB channel counts)
    hue = blank()
    hue[:, :] = (180, 60, 60)
    hue[:, 112:] = (60, 120, 60)
    assert shape_grid(hue, 7)[2, 3, ORIENTATIONS] > 0.5


def test_a_print_has_more_texture_than_plain_fabric():
    plain, printed = blank(), blank()
    plain[32:192, 32:192] = (40, 40, 40)
    printed[32:192, 32:192] = (40, 40, 40)
    printed[32:192:6, 32:192] = (230, 230, 60)  # stripes every 6 px
    assert shape_grid(printed, 7)[3, 3, ORIENTATIONS] > shape_grid(plain, 7)[3, 3, ORIENTATIONS] + 0.5


def test_catalog_photo_and_odd_sizes():
    grid = shape_grid(catalog_square(next(iter_ids())), 7).astype(np.float32)
    assert np.isfinite(grid).all() and (grid >= 0).all() and (grid[..., -1] <= 1).all()
    assert (grid[..., :ORIENTATIONS].sum(axis=-1) <= 1 + 1e-3).all()  # orientation shares of the cell's edges
    odd = shape_grid(np.asarray(Image.fromarray(blank(299))), 8)
    assert odd.shape == (8, 8, SHAPE_CHANNELS)
    with pytest.raises(ValueError, match="square RGB"):
        shape_grid(np.zeros((10, 12, 3), dtype=np.uint8), 7)


def iter_ids():
    import csv

    from embeddings.tests.conftest import CATALOG_DIR

    with open(CATALOG_DIR / "styles.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if (CATALOG_DIR / "images" / f"{row['id']}.jpg").exists():
                yield int(row["id"])
