"""The region-feedback terms on constructed vectors: rank pattern, outside match, fresh pools, undo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embeddings.engine.config import EngineConfig
from embeddings.engine.ranking.scoring import distinct, pair_contrast
from embeddings.engine.recommender import Recommender
from embeddings.engine.types import FeedbackSignal
from embeddings.tests.engine.ranking.constructed import GRID, catalog, fake_backbone, grids, vec

RED = (50.0, 60.0, 40.0)
BLUE = (40.0, 10.0, -50.0)
GREEN = (60.0, -50.0, 40.0)
TOP = np.zeros((GRID, GRID), dtype=np.float32)
TOP[:2] = 1.0


def signal(seed_id: int, view, cells=TOP, passed_over=()) -> FeedbackSignal:
    """A feedback signal on a catalog product, as derive_feedback would store it (masked vector = seed vector)."""
    feats = view.features([seed_id])
    arrays = {
        "seed_vector": feats.vectors[0],
        "masked_vector": feats.vectors[0],
        "seed_spatial": feats.spatial[0],
        "seed_colours": feats.colours[0],
        "passed_over": np.asarray(passed_over, dtype=np.int64),
    }
    return FeedbackSignal(seed_id=seed_id, cells=cells, arrays=arrays)


def only(**terms) -> EngineConfig:
    """Cosine plus the named terms; every other term off."""
    base = dict(w_pattern=0.0, w_outside=0.0, w_outside_repainted=0.0)
    return EngineConfig(**{**base, **terms})


def test_pair_contrast_matches_counting_every_pair():
    rng = np.random.default_rng(3)
    dist = rng.random((20, GRID, GRID)).astype(np.float32) * 40
    inside = np.zeros((GRID, GRID), dtype=np.float32)
    inside[:2, :3] = rng.random((2, 3))
    outside = 1.0 - inside
    outside[5:] = 0.0
    flat, wi, wo = dist.reshape(20, -1), inside.reshape(-1), outside.reshape(-1)
    wins = np.where(flat[:, :, None] - flat[:, None, :] > 1e-3, 1.0, -1.0)
    brute = np.einsum("nio,i,o->n", wins, wi, wo) / (wi.sum() * wo.sum())
    np.testing.assert_allclose(pair_contrast(dist, inside, outside), brute, atol=1e-5)
    assert pair_contrast(dist, np.zeros_like(inside), outside).tolist() == [0.0] * 20
    # a product identical to the seed did not change where painted: the lowest contrast, wherever the paint is
    assert pair_contrast(np.zeros((1, GRID, GRID)), inside, outside)[0] == pytest.approx(-1.0, abs=1e-5)


def _pattern_view():
    """1 = red seed; 2 = cosine-closest, blue where NOT painted; 3 = blue exactly where painted; 4 = all blue."""
    spatial, colours = grids(4, RED)
    colours[1, 2:] = BLUE
    colours[2, :2] = BLUE
    colours[3] = BLUE
    return catalog([vec(1, 0, 0.1), vec(1, 0.2, 0.1), vec(1, 0.4, 0.1), vec(1, 0.7, 0.1)], colours, spatial)


def test_rank_pattern_puts_the_product_that_changed_only_the_painted_part_first():
    view = _pattern_view()
    plain = Recommender(backbone=fake_backbone(), catalog=view, config=only())
    ranked = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_pattern=1.0))
    fb = [signal(1, view)]
    assert plain.recommend(seed_id=1, feedback=fb, k=3).product_ids == [2, 3, 4]
    assert ranked.recommend(seed_id=1, feedback=fb, k=3).product_ids[0] == 3


def test_a_repeated_identical_feedback_counts_again():
    view = _pattern_view()
    first, again = signal(1, view), signal(1, view)
    groups = distinct([first, again, signal(1, view, cells=1.0 - TOP)])
    assert [count for _, count in groups] == [2, 1]
    rec = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_pattern=0.2))
    once = rec.recommend(seed_id=1, feedback=[first], k=3).items
    twice = rec.recommend(seed_id=1, feedback=[first, again], k=3).items
    by_id = {item.product_id: item.score for item in once}
    gain = {item.product_id: item.score - by_id[item.product_id] for item in twice}
    assert gain[3] > 0 > gain[2]  # the pattern term was added once more


def test_outside_terms_prefer_products_that_keep_the_seed_where_it_was_not_painted():
    spatial, colours = grids(4, RED)
    colours[1] = GREEN  # cosine-closer but different everywhere
    colours[2, :2] = GREEN  # changed only where painted
    colours[3] = BLUE  # a far, different product (where the earlier feedback was given)
    view = catalog([vec(1, 0, 0.1), vec(1, 0.2, 0.1), vec(1, 0.4, 0.1), vec(0.2, 1, 0.1)], colours, spatial)
    fb = [signal(1, view)]
    base = Recommender(backbone=fake_backbone(), catalog=view, config=only())
    assert base.recommend(seed_id=1, feedback=fb, k=2).product_ids == [2, 3]
    # once painted, the seed's own outside term is off (the pattern term says what must change and what must stay)
    everywhere = Recommender(
        backbone=fake_backbone(), catalog=view, config=only(w_outside=1.0, w_outside_repainted=1.0)
    )
    assert everywhere.recommend(seed_id=1, feedback=fb, k=2).product_ids == [2, 3]
    # after a click: the new seed 1 has no feedback of its own (it was given on 4), so w_outside applies
    elsewhere = [signal(4, view)]
    assert base.recommend(seed_id=1, feedback=elsewhere, exclude=[4], k=2).product_ids == [2, 3]
    clicked = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_outside=1.0))
    assert clicked.recommend(seed_id=1, feedback=elsewhere, exclude=[4], k=2).product_ids == [3, 2]
    # painted twice (nothing on the slate was better): w_outside_repainted applies
    twice = [signal(1, view), signal(1, view)]
    assert clicked.recommend(seed_id=1, feedback=twice, k=2).product_ids == [2, 3]
    repainted = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_outside_repainted=1.0))
    assert repainted.recommend(seed_id=1, feedback=fb, k=2).product_ids == [2, 3]
    assert repainted.recommend(seed_id=1, feedback=twice, k=2).product_ids == [3, 2]


def test_fresh_pools_reach_past_the_products_already_passed_over():
    view = catalog([vec(1, 0, 0.1), vec(1, 0.1, 0.1), vec(1, 0.2, 0.1), vec(1, 0.3, 0.1), vec(1, 0.9, 0.1)])
    fresh = Recommender(backbone=fake_backbone(), catalog=view, config=only(pool_seed=2, pool_masked=0))
    fb = [signal(1, view, passed_over=[2, 3])]
    assert fresh.recommend(seed_id=1, feedback=fb, k=2).product_ids == [4, 5]
    undone = dataclasses.replace(fb[0], arrays={**fb[0].arrays, "passed_over": np.zeros(0, dtype=np.int64)})
    assert fresh.recommend(seed_id=1, feedback=[undone], k=2).product_ids == [2, 3]


def test_defaults_keep_undo_exact_and_feedback_across_a_seed_change():
    rng = np.random.default_rng(11)
    n = 40
    spatial, colours = grids(n, RED)
    colours += rng.normal(0, 25, colours.shape).astype(np.float16)
    view = catalog([vec(1, *rng.normal(0, 0.3, 3)) for _ in range(n)], colours, spatial)
    rec = Recommender(backbone=fake_backbone(), catalog=view)
    first = signal(1, view, passed_over=[2, 3])
    second = signal(4, view, cells=1.0 - TOP, passed_over=[2, 3, 5])
    before = rec.recommend(seed_id=4, feedback=[first], exclude=[1], k=5)
    after = rec.recommend(seed_id=4, feedback=[first, second], exclude=[1], k=5)
    assert after != before
    assert rec.recommend(seed_id=4, feedback=[first], exclude=[1], k=5) == before
    restored = FeedbackSignal.from_bytes(first.to_bytes())
    assert rec.recommend(seed_id=4, feedback=[restored], exclude=[1], k=5) == before
    # the feedback given on seed 1 still steers the slate of seed 4
    assert before != rec.similar(product_id=4, k=5, exclude=[1])
