"""Engine behaviour on constructed vectors: the painted region steers, purity (undo), persistence, filters."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from embeddings.engine.config import EngineConfig
from embeddings.engine.recommender import Recommender
from embeddings.engine.types import FeedbackSignal
from embeddings.tests.engine.ranking.constructed import GRID, catalog, fake_backbone, grids, unit, vec

RED = (50.0, 60.0, 40.0)
BLUE = (40.0, 10.0, -50.0)
TOP = np.zeros((GRID, GRID), dtype=np.float32)
TOP[:3] = 1.0


def signal(seed_id: int, seed_vector, masked_vector, cells=TOP, colour=RED) -> FeedbackSignal:
    """A hand-made feedback signal: the seed's vector, its masked vector and a uniformly coloured seed."""
    spatial, colours = grids(1, colour)
    arrays = {
        "seed_vector": unit(seed_vector),
        "masked_vector": unit(masked_vector),
        "seed_spatial": spatial[0],
        "seed_colours": colours[0],
    }
    return FeedbackSignal(seed_id=seed_id, cells=cells, arrays=arrays)


def test_candidate_resembling_the_disliked_region_drops_in_rank():
    spatial, colours = grids(3, RED)
    colours[2, :3] = BLUE  # product 3 differs from the seed exactly where the shopper painted
    view = catalog([vec(1, 0, 0.1), vec(1, 0.3, 0.1), vec(1, -0.1, 0.5)], colours=colours, spatial=spatial)
    rec = Recommender(backbone=fake_backbone(), catalog=view)
    assert rec.similar(product_id=1, k=2).product_ids == [2, 3]
    slate = rec.recommend(seed_id=1, feedback=[signal(1, vec(1, 0, 0.1), vec(1, 0, 0.1))], k=2)
    assert slate.product_ids == [3, 2]
    assert slate.items[0].reason == "Other colour at the top: blue, not red; same elsewhere"


def _three_colour_view():
    spatial, colours = grids(5, RED)
    colours[3, :3] = BLUE
    colours[4, 3:] = BLUE
    vectors = [vec(1, 0, 0.1), vec(1, 0.25, 0.0), vec(1, 0.5, 0.1), vec(1, 0.3, 0.45), vec(1, -0.2, 0.5)]
    return catalog(vectors, colours=colours, spatial=spatial)


def test_undo_restores_the_previous_slate_exactly():
    rec = Recommender(backbone=fake_backbone(), catalog=_three_colour_view())
    first = signal(1, vec(1, 0, 0.1), vec(1, 0.1, 0.1))
    bottom = np.zeros((GRID, GRID), dtype=np.float32)
    bottom[3:] = 1.0
    second = signal(1, vec(1, 0, 0.1), vec(1, 0, 0.3), cells=bottom)
    before = rec.recommend(seed_id=1, feedback=[first], k=3)
    after = rec.recommend(seed_id=1, feedback=[first, second], k=3)
    assert after != before
    assert rec.recommend(seed_id=1, feedback=[first], k=3) == before
    restored = FeedbackSignal.from_bytes(first.to_bytes())
    assert rec.recommend(seed_id=1, feedback=[restored], k=3) == before
    assert rec.recommend(seed_id=1, feedback=[], k=3) == rec.similar(product_id=1, k=3)


def test_feedback_persists_across_a_change_of_seed():
    rec = Recommender(backbone=fake_backbone(), catalog=_three_colour_view())
    fb = signal(1, vec(1, 0, 0.1), vec(1, 0, 0.1))
    plain = rec.similar(product_id=2, k=3, exclude=[1]).product_ids
    steered = rec.recommend(seed_id=2, feedback=[fb], exclude=[1], k=3).product_ids
    assert plain[0] == 3 and steered[0] == 4  # the only product unlike the painted region comes first


def test_every_rejected_region_counts_at_once():
    rec = Recommender(backbone=fake_backbone(), catalog=_three_colour_view(), config=EngineConfig())
    seed = vec(1, 0, 0.1)
    bottom = np.zeros((GRID, GRID), dtype=np.float32)
    bottom[3:] = 1.0
    top_only = rec.recommend(seed_id=1, feedback=[signal(1, seed, seed)], k=4).product_ids
    both = rec.recommend(seed_id=1, feedback=[signal(1, seed, seed), signal(1, seed, seed, cells=bottom)], k=4)
    assert top_only[0] == 4
    assert both.product_ids.index(5) < top_only.index(5)  # red bottom now also penalised: 5 (blue bottom) rises


def test_exclude_seed_and_allow_filter_are_respected():
    rec = Recommender(backbone=fake_backbone(), catalog=_three_colour_view())
    fb = signal(1, vec(1, 0, 0.1), vec(1, 0.1, 0.1))
    slate = rec.recommend(seed_id=1, feedback=[fb], exclude=[4], k=8, allow=lambda ids: ids % 2 == 1)
    assert slate.product_ids and set(slate.product_ids) <= {3, 5}
    assert rec.similar(product_id=1, k=8, exclude=[2]).product_ids == [5, 4, 3]
    assert rec.similar(product_id=1, k=2, offset=1).product_ids == rec.similar(product_id=1, k=3).product_ids[1:]


def test_near_duplicates_of_the_seed_are_dropped():
    view = catalog([vec(1, 0, 0.1), vec(1, 0.001, 0.1), vec(1, 0.5, 0.1)])
    rec = Recommender(backbone=fake_backbone(), catalog=view)
    fb = signal(1, vec(1, 0, 0.1), vec(1, 0.1, 0.1))
    assert rec.recommend(seed_id=1, feedback=[fb], k=2).product_ids == [3]


def test_derive_feedback_runs_one_masked_pass_and_records_the_region():
    backbone = fake_backbone()
    view = _three_colour_view()
    rec = Recommender(backbone=backbone, catalog=view)
    image = Image.new("RGB", (28, 28), (200, 30, 30))
    mask = np.zeros((28, 28), dtype=bool)
    mask[:12, :] = True
    fb = rec.derive_feedback(seed_id=1, seed_image=image, mask=mask)
    assert backbone.calls == 1
    assert fb.cells.shape == (GRID, GRID)
    assert fb.cells[0].min() == pytest.approx(1.0) and fb.cells[-1].max() == 0.0
    np.testing.assert_allclose(fb.arrays["seed_vector"], view.features([1]).vectors[0])
    assert not np.allclose(fb.arrays["masked_vector"], fb.arrays["seed_vector"])
    with pytest.raises(ValueError):
        rec.derive_feedback(seed_id=1, seed_image=image, mask=np.zeros((10, 10), dtype=bool))


def test_derive_feedback_for_a_seed_missing_from_the_index_uses_its_photo():
    rec = Recommender(backbone=fake_backbone(), catalog=_three_colour_view())
    image = Image.new("RGB", (28, 28), (200, 30, 30))
    fb = rec.derive_feedback(seed_id=99, seed_image=image, mask=np.ones((28, 28), dtype=bool))
    slate = rec.recommend(seed_id=99, feedback=[fb], k=3)
    assert len(slate.items) == 3 and 99 not in slate.product_ids


def test_products_passed_over_before_a_feedback_are_not_shown_again_until_it_is_undone():
    rec = Recommender(backbone=fake_backbone(), catalog=_three_colour_view())
    seed = vec(1, 0, 0.1)
    plain_fb = signal(1, seed, seed)
    passed = FeedbackSignal(1, plain_fb.cells, {**plain_fb.arrays, "passed_over": np.array([4], dtype=np.int64)})
    first = rec.recommend(seed_id=1, feedback=[plain_fb], k=4).product_ids
    assert first[0] == 4 and 4 not in rec.recommend(seed_id=1, feedback=[passed], k=4).product_ids  # fresh pools
    assert rec.recommend(seed_id=1, feedback=[plain_fb], k=4).product_ids == first  # undone: 4 is back


def test_derive_feedback_records_what_was_passed_over():
    rec = Recommender(backbone=fake_backbone(), catalog=_three_colour_view())
    image = Image.new("RGB", (28, 28), (200, 30, 30))
    fb = rec.derive_feedback(seed_id=1, seed_image=image, mask=np.ones((28, 28), dtype=bool), shown=[5, 3, 5])
    assert fb.arrays["passed_over"].tolist() == [3, 5]
    assert FeedbackSignal.from_bytes(fb.to_bytes()).arrays["passed_over"].tolist() == [3, 5]


def test_preferred_products_come_first_and_the_rest_tops_the_slate_up():
    view = _three_colour_view()  # ids 1..5; say 3 and 5 are of the seed's kind
    rec = Recommender(backbone=fake_backbone(), catalog=view)
    kind = lambda ids: np.isin(ids, [3, 5])  # noqa: E731
    plain = rec.similar(product_id=1, k=4).product_ids
    kept = rec.similar(product_id=1, k=4, prefer=kind).product_ids
    assert kept[:2] == [p for p in plain if p in (3, 5)] and sorted(kept[2:]) == sorted(
        p for p in plain if p not in (3, 5)
    )
    assert rec.similar(product_id=1, k=2, offset=2, prefer=kind).product_ids == kept[2:]
    fb = signal(1, vec(1, 0, 0.1), vec(1, 0.1, 0.1))
    steered = rec.recommend(seed_id=1, feedback=[fb], k=4, prefer=kind).product_ids
    assert set(steered[:2]) == {3, 5} and len(steered) == 4 and 1 not in steered
    odd = lambda ids: ids % 2 == 1  # noqa: E731  the shopper's own filter still holds for the top-up
    assert set(rec.recommend(seed_id=1, feedback=[fb], k=4, prefer=kind, allow=odd).product_ids) == {3, 5}
    assert rec.recommend(seed_id=1, feedback=[fb], k=4, prefer=None) == rec.recommend(seed_id=1, feedback=[fb], k=4)
