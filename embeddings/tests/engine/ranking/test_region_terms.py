"""The region-feedback terms on constructed vectors: rank pattern, outside match, pools, fresh pools, shortlist."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embeddings.engine.config import EngineConfig
from embeddings.engine.ranking.scoring import distinct, pair_contrast
from embeddings.engine.recommender import Recommender
from embeddings.engine.types import FeedbackSignal
from embeddings.tests.engine.ranking.constructed import GRID, catalog, fake_backbone, grids, unit, vec

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
    base = dict(
        w_pattern=0.0,
        w_shown=0.0,
        w_outside=0.0,
        w_outside_painted=0.0,
        w_outside_repainted=0.0,
        fresh_pools=False,
        pool_history=0,
    )
    return EngineConfig(**{**base, **terms})


def test_pair_contrast_matches_counting_every_pair():
    rng = np.random.default_rng(3)
    dist = rng.random((20, GRID, GRID)).astype(np.float32) * 40
    inside = np.zeros((GRID, GRID), dtype=np.float32)
    inside[:2, :3] = rng.random((2, 3))
    outside = 1.0 - inside
    outside[5:] = 0.0
    flat, wi, wo = dist.reshape(20, -1), inside.reshape(-1), outside.reshape(-1)
    brute = np.einsum("nio,i,o->n", np.sign(flat[:, :, None] - flat[:, None, :]), wi, wo) / (wi.sum() * wo.sum())
    np.testing.assert_allclose(pair_contrast(dist, inside, outside), brute, atol=1e-5)
    assert pair_contrast(dist, np.zeros_like(inside), outside).tolist() == [0.0] * 20


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
    ranked = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_pattern=1.0, pattern_mode="rank"))
    fb = [signal(1, view)]
    assert plain.recommend(seed_id=1, feedback=fb, k=3).product_ids == [2, 3, 4]
    assert ranked.recommend(seed_id=1, feedback=fb, k=3).product_ids[0] == 3


def test_a_repeated_identical_feedback_counts_again():
    view = _pattern_view()
    first, again = signal(1, view), signal(1, view)
    groups = distinct([first, again, signal(1, view, cells=1.0 - TOP)])
    assert [count for _, count in groups] == [2, 1]
    rec = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_pattern=0.2, pattern_mode="rank"))
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
    painted = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_outside_painted=1.0))
    assert painted.recommend(seed_id=1, feedback=fb, k=2).product_ids == [3, 2]
    # after a click: the new seed 1 has no feedback of its own (it was given on 4), so w_outside applies instead
    elsewhere = [signal(4, view)]
    assert painted.recommend(seed_id=1, feedback=elsewhere, exclude=[4], k=2).product_ids == [2, 3]
    clicked = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_outside=1.0))
    assert clicked.recommend(seed_id=1, feedback=elsewhere, exclude=[4], k=2).product_ids == [3, 2]
    # painted twice (nothing on the slate was better): w_outside_repainted applies, w_outside_painted no longer does
    twice = [signal(1, view), signal(1, view)]
    assert painted.recommend(seed_id=1, feedback=twice, k=2).product_ids == [2, 3]
    repainted = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_outside_repainted=1.0))
    assert repainted.recommend(seed_id=1, feedback=fb, k=2).product_ids == [2, 3]
    assert repainted.recommend(seed_id=1, feedback=twice, k=2).product_ids == [3, 2]


def test_fresh_pools_reach_past_the_products_already_passed_over():
    view = catalog([vec(1, 0, 0.1), vec(1, 0.1, 0.1), vec(1, 0.2, 0.1), vec(1, 0.3, 0.1), vec(1, 0.9, 0.1)])
    small = dict(pool_seed=2, pool_query=0, pool_masked=0)
    fb = [signal(1, view, passed_over=[2, 3])]
    stale = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_shown=1.0, **small))
    fresh = Recommender(backbone=fake_backbone(), catalog=view, config=only(fresh_pools=True, **small))
    assert stale.recommend(seed_id=1, feedback=fb, k=2).product_ids == [2, 3]  # demoted but nothing else to show
    assert fresh.recommend(seed_id=1, feedback=fb, k=2).product_ids == [4, 5]
    undone = dataclasses.replace(fb[0], arrays={**fb[0].arrays, "passed_over": np.zeros(0, dtype=np.int64)})
    assert fresh.recommend(seed_id=1, feedback=[undone], k=2).product_ids == [2, 3]


def test_history_pool_brings_candidates_from_around_an_earlier_feedback_seed():
    # 1 and 2 are close; 3 sits near the earlier seed 4, far from the current seed 1
    view = catalog([vec(1, 0, 0.1), vec(1, 0.1, 0.1), vec(0.1, 1, 0.5), vec(0.1, 1, 0.6)])
    small = dict(pool_seed=1, pool_query=0, pool_masked=0)
    fb = [signal(4, view)]
    assert Recommender(backbone=fake_backbone(), catalog=view, config=only(**small)).recommend(
        seed_id=1, feedback=fb, exclude=[4], k=3
    ).product_ids == [2]
    rec = Recommender(backbone=fake_backbone(), catalog=view, config=only(pool_history=1, **small))
    assert rec.recommend(seed_id=1, feedback=fb, exclude=[4], k=3).product_ids == [2, 3]


def test_pool_walk_searches_beyond_the_seed_along_the_dislike():
    view = catalog([vec(1, 0, 0.1), vec(1, 0.1, 0.1), vec(1, -0.8, 0.1), vec(1, 0.8, 0.1)])
    seed = view.features([1])
    fb = FeedbackSignal(
        1,
        TOP,
        {
            "seed_vector": seed.vectors[0],
            "masked_vector": unit(vec(1, 0.3, 0.1)),  # masking moved the embedding along +dim1
            "seed_spatial": seed.spatial[0],
            "seed_colours": seed.colours[0],
        },
    )
    small = dict(pool_seed=1, pool_query=1, pool_masked=0)
    still = Recommender(backbone=fake_backbone(), catalog=view, config=only(**small))
    walked = Recommender(backbone=fake_backbone(), catalog=view, config=only(pool_walk=3.0, **small))
    assert still.recommend(seed_id=1, feedback=[fb], k=3).product_ids == [2]
    assert set(walked.recommend(seed_id=1, feedback=[fb], k=3).product_ids) == {2, 4}


@pytest.mark.parametrize("mode", ["ratio", "rank"])
def test_shortlist_does_not_change_the_slate(mode):
    rng = np.random.default_rng(7)
    n = 60
    spatial, colours = grids(n, RED)
    colours += rng.normal(0, 20, colours.shape).astype(np.float16)
    vectors = [vec(1, *rng.normal(0, 0.3, 3)) for _ in range(n)]
    view = catalog(vectors, colours, spatial)
    fb = [signal(1, view, passed_over=[5, 6])]
    wide = Recommender(backbone=fake_backbone(), catalog=view, config=EngineConfig(pattern_mode=mode, shortlist=n))
    narrow = Recommender(backbone=fake_backbone(), catalog=view, config=EngineConfig(pattern_mode=mode, shortlist=8))
    assert wide.recommend(seed_id=1, feedback=fb, k=8) == narrow.recommend(seed_id=1, feedback=fb, k=8)


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


def test_pool_growth_widens_the_pool_when_the_same_seed_is_painted_again():
    view = catalog([vec(1, 0, 0.1), vec(1, 0.1, 0.1), vec(1, 0.2, 0.1), vec(1, 0.3, 0.1), vec(1, 0.4, 0.1)])
    small = dict(pool_seed=2, pool_query=0, pool_masked=0)
    rec = Recommender(backbone=fake_backbone(), catalog=view, config=only(pool_growth=1.0, **small))
    once, twice = [signal(1, view)], [signal(1, view), signal(1, view)]
    assert rec.recommend(seed_id=1, feedback=once, k=4).product_ids == [2, 3]
    assert rec.recommend(seed_id=1, feedback=twice, k=4).product_ids == [2, 3, 4, 5]


def test_pattern_norm_averages_the_pattern_over_feedback():
    view = _pattern_view()
    fb = [signal(1, view), signal(1, view)]
    summed = Recommender(backbone=fake_backbone(), catalog=view, config=only(w_pattern=1.0, pattern_mode="rank"))
    mean = Recommender(
        backbone=fake_backbone(), catalog=view, config=only(w_pattern=1.0, pattern_mode="rank", pattern_norm=1.0)
    )
    cos = {
        i.product_id: i.score
        for i in Recommender(backbone=fake_backbone(), catalog=view, config=only())
        .recommend(seed_id=1, feedback=fb, k=3)
        .items
    }
    s = {i.product_id: i.score - cos[i.product_id] for i in summed.recommend(seed_id=1, feedback=fb, k=3).items}
    m = {i.product_id: i.score - cos[i.product_id] for i in mean.recommend(seed_id=1, feedback=fb, k=3).items}
    assert any(abs(v) > 0.1 for v in s.values())
    assert all(m[p] == pytest.approx(s[p] / 2, abs=1e-5) for p in s)
