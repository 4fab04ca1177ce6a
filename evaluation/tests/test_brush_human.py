"""The human brush paints the chosen cells as strokes: deterministic per rng, inside the image, off the grid."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.shoppers import GridBrush
from evaluation.shoppers.human_brush import HumanBrush, cell_regions

CELL = 28
HALF_CELL = CELL // 2


def _cells(*coords: tuple[int, int]) -> np.ndarray:
    cells = np.zeros((8, 8), dtype=bool)
    for rc in coords:
        cells[rc] = True
    return cells


BLOCK = _cells((2, 2), (2, 3), (3, 2), (3, 3), (3, 4))  # an L-shaped region of five cells
EDGE = _cells((0, 0), (0, 1), (7, 7))  # two regions touching the image's border and corners
EVERYWHERE = np.ones((224, 224), dtype=bool)


def _near(cells: np.ndarray, px: int) -> np.ndarray:
    """(224, 224) bool: pixels within px (Chebyshev) of a chosen cell."""
    grid = GridBrush().paint(cells, EVERYWHERE, np.random.default_rng(0))
    near = np.zeros_like(grid)
    padded = np.pad(grid, px)
    for dy in range(2 * px + 1):
        for dx in range(2 * px + 1):
            near |= padded[dy : dy + 224, dx : dx + 224]
    return near


@pytest.mark.parametrize("cells", [BLOCK, EDGE], ids=["block", "edge"])
def test_same_rng_paints_the_same_mask_and_another_rng_another(cells):
    brush = HumanBrush()
    first = brush.paint(cells, EVERYWHERE, np.random.default_rng([7, 3, 1]))
    again = brush.paint(cells, EVERYWHERE, np.random.default_rng([7, 3, 1]))
    other = brush.paint(cells, EVERYWHERE, np.random.default_rng([7, 3, 2]))
    assert first.shape == (224, 224) and first.dtype == bool
    np.testing.assert_array_equal(first, again)
    assert (first != other).sum() > 100


@pytest.mark.parametrize("cells", [BLOCK, EDGE], ids=["block", "edge"])
def test_strokes_cover_most_of_the_cells_spill_under_half_a_cell_and_are_not_the_grid(cells):
    grid = GridBrush().paint(cells, EVERYWHERE, np.random.default_rng(0))
    near = _near(cells, HALF_CELL)
    coverage, spilled = [], []
    for seed in range(40):
        mask = HumanBrush().paint(cells, EVERYWHERE, np.random.default_rng(seed))
        assert mask.any()
        assert not (mask & ~near).any()  # spill stays within half a cell of a chosen cell
        assert not np.array_equal(mask, grid)
        coverage.append((mask & grid).sum() / grid.sum())
        spilled.append((mask & ~grid).sum())
    assert np.mean(coverage) >= 0.5
    assert np.mean(coverage) < 0.95  # some of the right cells are missed
    assert np.mean(spilled) > 0  # and some paint lands beside them


def test_misses_some_chosen_cells_but_never_paints_nothing():
    one = _cells((4, 4))
    for seed in range(30):
        mask = HumanBrush().paint(one, EVERYWHERE, np.random.default_rng(seed))
        assert mask[4 * CELL : 5 * CELL, 4 * CELL : 5 * CELL].mean() > 0.2
    many = np.zeros((8, 8), dtype=bool)
    many[1:7, 1:7] = True
    missed = []
    for seed in range(10):
        painted = HumanBrush().paint(many, EVERYWHERE, np.random.default_rng(seed)).reshape(8, CELL, 8, CELL)
        missed.append((painted.mean(axis=(1, 3))[many] < 0.1).sum())
    assert 0 < np.mean(missed) < 0.5 * many.sum()
    assert not HumanBrush().paint(np.zeros((8, 8), dtype=bool), EVERYWHERE, np.random.default_rng(0)).any()


def test_strokes_aim_at_the_product_pixels_of_a_cell():
    cells = _cells((3, 3), (3, 4))
    product = np.zeros((224, 224), dtype=bool)
    product[3 * CELL : 4 * CELL, 3 * CELL : 4 * CELL + 10] = True  # the second cell is mostly background
    aimed, blind = [], []  # share of the paint on the product, knowing / not knowing where the product is
    for seed in range(20):
        mask = HumanBrush().paint(cells, product, np.random.default_rng(seed))
        aimed.append((mask & product).sum() / mask.sum())
        mask = HumanBrush().paint(cells, EVERYWHERE, np.random.default_rng(seed))
        blind.append((mask & product).sum() / mask.sum())
    assert np.mean(aimed) > np.mean(blind) + 0.05


def test_cell_regions_are_4_connected():
    regions = cell_regions(_cells((0, 0), (0, 1), (1, 1), (2, 2), (7, 7)))
    assert sorted(len(r) for r in regions) == [1, 1, 3]
