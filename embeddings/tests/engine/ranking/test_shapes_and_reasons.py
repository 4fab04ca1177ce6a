"""Shape-aware region feedback on constructed grids: where the shape changed, imprecise strokes, and the reasons."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.engine.masking import cell_coverage
from embeddings.engine.ranking.reasons import colour_name, place_name
from embeddings.engine.recommender import Recommender
from embeddings.engine.types import FeedbackSignal
from embeddings.tests.engine.ranking.constructed import CHANNELS, GRID, catalog, fake_backbone, grids, vec

WHITE_TEE = (92.0, 0.0, 2.0)  # off-white product: not studio background (L < 95)
NAVY = (20.0, 5.0, -30.0)
BACKGROUND = (100.0, 0.0, 0.0)
TOP = np.zeros((GRID, GRID), dtype=np.float32)
TOP[:2] = 1.0
SIZE = 224  # the square the masks are painted on (cell_coverage maps it to GRID x GRID)


def signal(view, seed_id: int = 1, cells=TOP) -> FeedbackSignal:
    feats = view.features([seed_id])
    arrays = {
        "seed_vector": feats.vectors[0],
        "masked_vector": feats.vectors[0],
        "seed_spatial": feats.spatial[0],
        "seed_colours": feats.colours[0],
    }
    return FeedbackSignal(seed_id=seed_id, cells=cells, arrays=arrays)


def _shape_view():
    """1 = white tee; 2 = cosine-closest, another shape only where NOT painted; 3 = another shape only where painted;
    4 = another print (texture) only where painted; 5 = navy only where painted. All the same white elsewhere."""
    spatial, colours = grids(5, WHITE_TEE)
    spatial[:] = 0.2
    spatial[1, 3:, :, 0] = 0.9
    spatial[2, :2, :, 0] = 0.9
    spatial[3, :2, :, CHANNELS - 2] = 0.9  # the texture channel (second to last, like the real shape grid)
    colours[4, :2] = NAVY
    vectors = [vec(1, 0, 0.1), vec(1, 0.1, 0.1), vec(1, 0.3, 0.1), vec(1, -0.35, 0.1), vec(1, 0, 0.5)]
    return catalog(vectors, colours, spatial)


def test_a_shape_change_inside_the_paint_outranks_one_outside_it():
    view = _shape_view()
    rec = Recommender(backbone=fake_backbone(), catalog=view)
    assert rec.similar(product_id=1, k=4).product_ids == [2, 3, 4, 5]
    ranked = rec.recommend(seed_id=1, feedback=[signal(view)], k=4).product_ids
    assert ranked.index(3) < ranked.index(2) and ranked.index(4) < ranked.index(2)
    assert ranked[-1] == 2


def test_reasons_say_how_each_product_differs_where_painted():
    view = _shape_view()
    items = {i.product_id: i for i in Recommender(backbone=fake_backbone(), catalog=view).recommend(
        seed_id=1, feedback=[signal(view)], k=4
    ).items}
    assert [d.aspects for d in items[3].differences] == [("shape",)]
    assert [d.aspects for d in items[4].differences] == [("print",)]
    assert [d.aspects for d in items[5].differences] == [("colour",)]
    assert items[2].differences[0].aspects == ()  # nothing changed where painted: no made-up reason
    assert items[5].reason == "Other colour at the top: navy, not white; same elsewhere"
    assert items[3].reason == "Other shape at the top; same elsewhere"
    assert items[2].reason.startswith("Close to what you painted at the top")
    assert len({item.reason for item in items.values()}) == 4
    for item in items.values():
        heat = np.asarray(item.heat)
        assert heat.shape == (GRID, GRID) and heat.min() >= 0 and heat.max() <= 1
        assert heat[2:].max() == 0.0  # only painted cells are hot
    assert np.asarray(items[5].heat)[:2].min() > 0.5 and np.asarray(items[2].heat).max() == 0.0


def test_plain_neighbours_and_whole_item_dislikes_carry_no_region_reason():
    view = _shape_view()
    rec = Recommender(backbone=fake_backbone(), catalog=view)
    plain = rec.similar(product_id=1, k=2).items[0]
    assert (plain.differences, plain.same_elsewhere, plain.heat) == ((), None, ())
    whole = signal(view, cells=np.ones((GRID, GRID), dtype=np.float32))
    whole.arrays["whole_item"] = np.asarray([True])
    item = rec.recommend(seed_id=1, feedback=[whole], k=2).items[0]
    assert item.differences == () and item.heat == ()
    assert item.reason == "Similar, and not one you set aside"


@pytest.mark.parametrize(
    "lab, name",
    [((92.0, 0.0, 2.0), "white"), ((20.0, 5.0, -30.0), "navy"), ((45.0, 65.0, 45.0), "red"), ((10.0, 0.0, 0.0), "black")],
)
def test_colour_names(lab, name):
    assert colour_name(np.asarray(lab)) == name


def test_place_names_follow_the_painted_cells():
    cells = np.zeros((GRID, GRID), dtype=np.float32)
    assert place_name(cells) == "the painted area"
    cells[:2] = 1.0
    assert place_name(cells) == "top"
    cells[:] = 0.0
    cells[5:, :2] = 1.0
    assert place_name(cells) == "lower left"
    cells[:] = 0.0
    cells[2:5, 2:5] = 1.0
    assert place_name(cells) == "centre"


def _noisy_view(n: int = 40):
    """A seed on studio background (side columns), and n - 1 products varying in colour and shape everywhere."""
    rng = np.random.default_rng(5)
    spatial, colours = grids(n, (60.0, 30.0, 10.0))
    colours[:, :, [0, GRID - 1]] = BACKGROUND
    colours[1:, :, 1:-1] += rng.normal(0, 20, colours[1:, :, 1:-1].shape).astype(np.float16)
    spatial[1:] = rng.random(spatial[1:].shape).astype(np.float16)
    vectors = [vec(1, 0, 0.1)] + [vec(1, *rng.normal(0, 0.2, 3)) for _ in range(n - 1)]
    return catalog(vectors, colours, spatial)


def _cells(top: int, bottom: int, left: int, right: int) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), dtype=bool)
    mask[top:bottom, left:right] = True
    return cell_coverage(mask, GRID)


def test_a_shifted_or_spilling_stroke_gives_the_same_top_candidates():
    view = _noisy_view()
    rec = Recommender(backbone=fake_backbone(), catalog=view)
    cell = SIZE // GRID

    def top(cells) -> tuple[int, set[int]]:
        ids = rec.recommend(seed_id=1, feedback=[signal(view, cells=cells)], k=5).product_ids
        return ids[0], set(ids)

    stroke = top(_cells(0, 2 * cell, cell, 6 * cell))
    assert top(_cells(5, 2 * cell + 5, cell + 4, 6 * cell + 4)) == stroke  # a few pixels down and right
    assert top(_cells(0, 2 * cell, 0, SIZE)) == stroke  # spilling onto the background on both sides
    assert top(_cells(0, 5 * cell, cell, 6 * cell))[1] != stroke[1]  # a really different stroke changes the slate
