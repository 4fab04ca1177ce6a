"""The simulated shopper's eyes follow the protocol's definitions."""

from __future__ import annotations

import numpy as np

from evaluation.shoppers import GridBrush, choose_cells
from evaluation.shoppers.colour import ColourEyes, lab_cell_differences, lab_foreground_cells
from evaluation.shoppers.pixels import rgb_to_lab


def test_rgb_to_lab_reference_colours():
    lab = rgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], dtype=np.uint8))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.1)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.1)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.2)


def _white() -> np.ndarray:
    return np.tile(np.array([100.0, 0.0, 0.0], dtype=np.float32), (224, 224, 1))


def test_difference_mask_picks_a_quarter_of_the_foreground_cells_where_images_differ_most():
    seed, target = _white(), _white()
    seed[28:196, 28:196] = (40.0, 0.0, 0.0)  # 6x6 = 36 foreground cells of dark grey
    target[28:196, 28:196] = (40.0, 0.0, 0.0)
    target[28:84, 28:112] = (40.0, 60.0, 40.0)  # the top-left 2x3 cells are red on the target
    target[0:28, :] = (0.0, 0.0, 0.0)  # differs strongly, but on the seed's background: never chosen
    cells = choose_cells(lab_cell_differences(seed, target), lab_foreground_cells(seed))
    mask = GridBrush().paint(cells, np.ones((224, 224), dtype=bool), np.random.default_rng(0))
    cells = mask.reshape(8, 28, 8, 28).any(axis=(1, 3))
    assert cells.sum() == 9  # ceil(0.25 * 36)
    assert cells[1:3, 1:4].all() and not cells[0].any()
    assert mask.shape == (224, 224) and mask.dtype == bool


def test_look_adds_25_per_differing_attribute():
    small = np.zeros((3, 32, 32, 3), dtype=np.float32)
    small[1] += 1.0
    attrs = np.array([[0, 0, 0], [0, 0, 0], [1, 0, 2]])
    eyes = ColourEyes(np.array([10, 11, 12]), small, attrs, image_path=lambda p: "")
    assert np.isclose(eyes.look(10, 11), np.sqrt(32 * 32 * 3))
    assert np.isclose(eyes.look(10, 12), 50.0)
    np.testing.assert_allclose(eyes.looks([11, 12], 10), [np.sqrt(32 * 32 * 3), 50.0])
