"""The structure shopper sees shape and silhouette, not colour; the colour shopper the opposite (made-up photos)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluation.data import load_catalog_dir
from evaluation.shoppers import GridBrush, Shopper, choose_cells
from evaluation.shoppers.colour import ColourEyes
from evaluation.shoppers.pixels import rgb_to_lab
from evaluation.shoppers.structure import STRUCTURE_SCALE, StructureEyes, structure_cells

# Stripe colours and the same lightness in other hues (CIELAB L equal within 0.01).
DARK, LIGHT = (170, 40, 40), (240, 150, 150)  # L 38.23 and 71.24, reds
DARK_HUE, LIGHT_HUE = (105, 0, 255), (54, 201, 0)  # L 38.24 and 71.25, violet-blue and green
# A quarter of the 36 product cells differs in shape (stripes turned), another quarter in hue only; one cell is cut.
SHAPE_BLOCK, COLOUR_BLOCK = (slice(1, 4), slice(1, 4)), (slice(4, 7), slice(4, 7))
HOLE_CELL = (5, 2)
PERIOD = 7  # 4 stripes per 28 px cell, so every cell of the product shows the same pattern


def _photo(shape: bool = False, colour: bool = False, hole_cell=None) -> np.ndarray:
    """White 224x224 photo; cells 1..6 x 1..6 vertical stripes; optionally a block turned / recoloured, a cell cut."""
    img = np.full((224, 224, 3), 255, dtype=np.uint8)
    ys, xs = np.mgrid[0:224, 0:224]
    product = (ys >= 28) & (ys < 196) & (xs >= 28) & (xs < 196)
    dark = xs % PERIOD < 3
    cells = np.zeros((8, 8), dtype=bool)
    if shape:
        cells[SHAPE_BLOCK] = True
        dark = np.where(np.kron(cells, np.ones((28, 28), dtype=bool)), ys % PERIOD < 3, dark)
    img[product & dark], img[product & ~dark] = DARK, LIGHT
    if colour:
        cells[:] = False
        cells[COLOUR_BLOCK] = True
        inside = np.kron(cells, np.ones((28, 28), dtype=bool))
        img[inside & dark], img[inside & ~dark] = DARK_HUE, LIGHT_HUE
    if hole_cell is not None:
        r, c = hole_cell
        img[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] = 255
    return img


def _block(block) -> np.ndarray:
    cells = np.zeros((8, 8), dtype=bool)
    cells[block] = True
    return cells


def test_constructed_colours_differ_in_hue_only():
    lab = rgb_to_lab(np.array([DARK, DARK_HUE, LIGHT, LIGHT_HUE], dtype=np.uint8))
    assert abs(lab[0, 0] - lab[1, 0]) < 0.02 and abs(lab[2, 0] - lab[3, 0]) < 0.02
    assert np.hypot(*(lab[0, 1:] - lab[1, 1:])) > 100 and np.hypot(*(lab[2, 1:] - lab[3, 1:])) > 100


@pytest.fixture()
def catalog(tmp_path: Path):
    """Four constructed products: the seed, and targets differing in one cell's shape / hue / silhouette."""
    (tmp_path / "images").mkdir()
    photos = {
        1: _photo(),
        2: _photo(shape=True, colour=True),
        3: _photo(colour=True),
        4: _photo(hole_cell=HOLE_CELL),
    }
    with open(tmp_path / "styles.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "articleType", "gender", "baseColour"])
        for pid, img in photos.items():
            Image.fromarray(img).save(tmp_path / "images" / f"{pid}.jpg", quality=98)
            writer.writerow([pid, "Tshirts", "Men", "Red" if pid != 4 else "Blue"])
    return load_catalog_dir(tmp_path)


def test_structure_shopper_marks_the_cell_whose_shape_differs_not_the_one_whose_hue_differs(catalog, tmp_path):
    eyes = StructureEyes.build(catalog, tmp_path / "cache")
    diff = eyes.cell_differences(1, 2)
    assert diff[COLOUR_BLOCK].max() < 0.1 * diff[SHAPE_BLOCK].min()
    assert eyes.foreground(1).sum() == 36  # the 6x6 product cells
    mask = Shopper("structure", eyes, GridBrush()).mask(1, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(mask.reshape(8, 28, 8, 28).all(axis=(1, 3)), _block(SHAPE_BLOCK))


def test_colour_shopper_marks_the_cell_whose_hue_differs(catalog, tmp_path):
    eyes = ColourEyes.build(catalog, tmp_path / "cache")
    diff = eyes.cell_differences(1, 2)
    assert diff[COLOUR_BLOCK].min() > 3 * diff[SHAPE_BLOCK].max()
    np.testing.assert_array_equal(choose_cells(diff, eyes.foreground(1)), _block(COLOUR_BLOCK))


def test_structure_shopper_marks_a_cell_missing_from_the_targets_silhouette(catalog, tmp_path):
    eyes = StructureEyes.build(catalog, tmp_path / "cache")
    diff = eyes.cell_differences(1, 4)
    assert np.unravel_index(np.argmax(diff), diff.shape) == HOLE_CELL
    assert not eyes.foreground(4)[HOLE_CELL] and eyes.foreground(1)[HOLE_CELL]


def test_look_sees_structure_far_more_than_hue_and_adds_25_per_attribute(catalog, tmp_path):
    eyes = StructureEyes.build(catalog, tmp_path / "cache")
    hue_only = eyes.structure_distances([3], 1)[0]
    assert hue_only < 0.1 * eyes.structure_distances([2], 1)[0]
    # 3 differs from 1 in hue over 9 cells (a large colour change), 4 in one cut cell and its baseColour
    looks = eyes.looks([1, 3, 4], 1)
    assert looks[0] == 0.0 and 0 < looks[1] < looks[2]
    assert eyes.look(4, 1) == pytest.approx(looks[2])
    colour = ColourEyes.build(catalog, tmp_path / "cache")
    expected = STRUCTURE_SCALE * eyes.structure_distances([4], 1)[0] + 0.2 * colour.pixel_distances([4], 1)[0] + 25
    assert looks[2] == pytest.approx(expected, rel=1e-5)
    colour_looks = colour.looks([3, 4], 1)
    assert colour_looks[0] > colour_looks[1]  # the colour shopper judges the other way round


def test_descriptors_are_cached_and_reused(catalog, tmp_path):
    first = StructureEyes.build(catalog, tmp_path / "cache")
    (cache,) = (tmp_path / "cache").glob("structure*.npz")
    with np.load(cache) as npz:
        npz_cells = npz["cells"]
    npz_cells[0] += 1.0  # a changed cache is what the next build returns (no recomputation)
    np.savez(cache, product_ids=catalog.product_ids, cells=npz_cells)
    second = StructureEyes.build(catalog, tmp_path / "cache")
    np.testing.assert_allclose(second.cell_descriptors(1), first.cell_descriptors(1) + 1.0)
    np.testing.assert_allclose(second.cell_descriptors(2), first.cell_descriptors(2))


def test_flat_cells_stay_near_zero_and_an_edge_counts_about_one():
    lab = rgb_to_lab(_photo())
    cells = structure_cells(lab)
    assert cells.shape == (8, 8, 9)
    assert (
        np.linalg.norm(cells[0, 0, :8]) < 0.02 and cells[0, 0, 8] == 0
    )  # background (its corner touches the product)
    assert np.linalg.norm(cells[3, 3, :8]) == pytest.approx(1.0, abs=1e-3) and cells[3, 3, 8] == 1.0
    vertical_stripes = cells[3, 3, :8]  # gradients point along x: orientation 0 / 180 degrees, bins 0 and 7
    assert vertical_stripes[[0, 7]].sum() > 0.95 * vertical_stripes.sum()
