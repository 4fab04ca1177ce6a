"""Protocol v2 pieces on made-up data: episode families, never-re-show baselines, ablation masks, what is seen."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.engine.recommender import Recommender
from embeddings.engine.types import Slate, SlateItem
from embeddings.tests.engine.ranking.constructed import catalog as constructed_catalog
from embeddings.tests.engine.ranking.constructed import fake_backbone
from evaluation.data import EvalCatalog
from evaluation.engines import WholeItemSession
from evaluation.episodes import Episode, draw_episodes
from evaluation.evaluate import kind_filters
from evaluation.runner import EpisodeRunner
from evaluation.seen import cell_coverage, what_is_seen
from evaluation.shoppers import GRID, GridBrush, Shopper
from evaluation.tests.made_up import made_up_catalog


def test_same_colour_episodes_share_type_gender_and_colour_but_never_start_at_the_target():
    cat = made_up_catalog()
    row = {int(p): i for i, p in enumerate(cat.product_ids)}
    episodes = draw_episodes(cat, 40, seed=5, family="same-colour")
    assert episodes == draw_episodes(cat, 40, seed=5, family="same-colour")
    assert episodes != draw_episodes(cat, 40, seed=5, family="standard")
    for e in episodes:
        t, s = row[e.target], row[e.start]
        assert t != s and cat.article_type[t] != "Rare"
        for attribute in (cat.article_type, cat.gender, cat.colour):
            assert attribute[t] == attribute[s]


def test_episodes_refuse_a_catalog_too_small_or_an_unknown_family():
    small = made_up_catalog()
    tiny = EvalCatalog(
        *(column[:20] for column in (small.product_ids, small.article_type, small.gender)),
        small.colour[:20],
        small.paths[:20],
    )
    with pytest.raises(ValueError, match="too small"):
        draw_episodes(tiny, 3, seed=1)
    with pytest.raises(ValueError, match="unknown episode family"):
        draw_episodes(small, 3, seed=1, family="pink")


def _Recommender(view) -> Recommender:
    return Recommender(backbone=fake_backbone(), catalog=view)


@pytest.mark.parametrize("rule", ["average_vector", "best_score", "sum_scores"])
def test_whole_item_baselines_never_show_a_product_twice(rule):
    rng = np.random.default_rng(0)
    view = constructed_catalog(rng.normal(size=(60, 8)))
    session = WholeItemSession(_Recommender(view), rule)
    shown: list[int] = []
    seed = 1
    slate = session.start(seed, 8)
    for step in range(6):  # dislike the seed, click, dislike, ...: the loop that used to repeat one slate
        shown += slate.product_ids
        if step % 2 == 0:
            slate = session.feedback(seed, np.ones((224, 224), dtype=bool), 8)
        else:
            seed = slate.product_ids[0]
            slate = session.click(seed, 8)
        assert len(slate.product_ids) == 8
        assert not set(slate.product_ids) & set(shown), f"{rule} re-showed a product at step {step}"
        assert not set(slate.product_ids) & set(session.visited)
    assert session.positives(seed) == [v for v in session.visited if v not in session.disliked] or [seed]


@pytest.mark.parametrize("rule", ["average_vector", "best_score", "sum_scores"])
def test_the_default_type_filter_puts_the_seeds_kind_first_in_every_baseline(rule):
    rng = np.random.default_rng(1)
    view = constructed_catalog(rng.normal(size=(60, 8)))
    cat = EvalCatalog(
        np.arange(1, 61),
        np.array(["Tshirts", "Shoes"] * 30),
        np.array(["Men"] * 60),
        np.array(["Red"] * 60),
        np.array([""] * 60),
    )
    kind = kind_filters(cat)
    session = WholeItemSession(_Recommender(view), rule, kind=kind)
    landing = session.start(1, 8)
    disliked = session.feedback(1, np.ones((224, 224), dtype=bool), 8)
    for slate in (landing, disliked):
        assert all(p % 2 == 1 for p in slate.product_ids)  # odd ids are Tshirts, like the seed 1
    assert kind(2)(np.array([1, 2, 4])).tolist() == [False, True, True]


def test_the_only_seed_disliked_stays_the_positive():
    session = WholeItemSession(_Recommender(constructed_catalog(np.eye(8)[:5] + 0.1)), "average_vector")
    session.start(1, 2)
    session.feedback(1, np.ones((224, 224), dtype=bool), 2)
    assert session.positives(1) == [1] and session.disliked == [1]


class _BlockEyes:
    """Eyes over a made-up catalog: every product is one value per cell; the seed's foreground is the top half."""

    name = "blocks"

    def __init__(self, values: dict[int, np.ndarray]):
        self.values = values

    def looks(self, candidates, target):
        return np.array([abs(float(self.values[c].mean() - self.values[target].mean())) for c in candidates])

    def look(self, a, b):
        return float(self.looks([a], b)[0])

    def cell_differences(self, seed, target):
        return np.abs(self.values[seed] - self.values[target])

    def foreground(self, product):
        fg = np.zeros((GRID, GRID), dtype=bool)
        fg[: GRID // 2] = True
        return fg

    def foreground_pixels(self, product):
        return np.kron(self.foreground(product), np.ones((28, 28), dtype=bool)).astype(bool)

    def cell_descriptors(self, product):
        return self.values[product][..., None]


def test_what_is_seen_separates_the_painted_cells_from_the_rest():
    seed = np.zeros((GRID, GRID))
    changed_inside = seed.copy()
    changed_inside[0, 0] = 5.0  # differs only where painted
    changed_outside = seed.copy()
    changed_outside[2, 3] = 5.0  # differs only on unpainted foreground
    eyes = _BlockEyes({1: seed, 2: changed_inside, 3: changed_outside})
    mask = np.zeros((224, 224), dtype=bool)
    mask[:28, :28] = True  # cell (0, 0)
    assert cell_coverage(mask)[0, 0] == 1.0 and cell_coverage(mask).sum() == 1.0
    kinds = {1: "a", 2: "a", 3: "b"}
    inside = what_is_seen(eyes, lambda p, s: kinds[p] == kinds[s], 1, mask, [2])
    outside = what_is_seen(eyes, lambda p, s: kinds[p] == kinds[s], 1, mask, [3])
    assert inside["changed_inside"] == 5.0 and inside["kept_outside"] == 0.0 and inside["type_kept"] == 1.0
    assert outside["changed_inside"] == 0.0 and outside["kept_outside"] == pytest.approx(5.0 / 31)
    assert outside["type_kept"] == 0.0


class _Session:
    """Shows the next products in line and remembers the masks it is given."""

    def __init__(self):
        self.masks: list[np.ndarray] = []
        self.next_id = 10

    def _slate(self):
        ids = list(range(self.next_id, self.next_id + 2))
        self.next_id += 2
        return Slate(tuple(SlateItem(i, 0.0, "") for i in ids))

    def start(self, seed, k):
        return self._slate()

    def feedback(self, seed, mask, k):
        self.masks.append(mask)
        return self._slate()

    def click(self, seed, k):
        return self._slate()


def _runner(mask_mode: str) -> EpisodeRunner:
    values = {p: np.full((GRID, GRID), float(p)) for p in range(1, 60)}
    values[1] = np.arange(GRID * GRID, dtype=float).reshape(GRID, GRID)  # seed: the last cells differ most
    shopper = Shopper("blocks", _BlockEyes(values), GridBrush())

    def plain(seed, visited, k):
        return Slate((SlateItem(seed + 1, 0.0, ""),))

    return EpisodeRunner(shopper, lambda p, t: False, same_kind=lambda p, s: True, plain=plain, mask_mode=mask_mode)


@pytest.mark.parametrize("mode", ["shopper", "whole", "random"])
def test_ablation_masks_replace_what_the_engine_gets_and_seen_follows_the_shopper(mode):
    session = _Session()
    result = _runner(mode).run(Episode(0, target=50, start=1), policy=2, session=session)
    first = session.masks[0]
    cells = cell_coverage(first) > 0
    if mode == "shopper":
        assert cells.sum() == 8 and cells[0].all()  # a quarter of the 32 foreground cells: the 8 that differ most
    elif mode == "whole":
        assert cells.sum() == 32 and cells[:4].all()
    else:
        assert cells.sum() == 8 and not cells[4:].any() and not cells[0].all()
    recorded = [(s["feedback"], s["slate"]) for s in result.seen]
    assert recorded == [(1, "after"), (1, "plain"), (2, "after"), (2, "plain")]
    seen_again = _runner(mode).run(Episode(0, target=50, start=1), policy=2, session=_Session())
    assert seen_again.seen == result.seen  # deterministic per (episode, step)


def test_unknown_mask_mode_is_refused():
    with pytest.raises(ValueError, match="mask mode"):
        _runner("everything")


def test_a_mask_the_storefront_would_refuse_leaves_the_slate_as_it_was(tmp_path):
    from PIL import Image

    from embeddings.engine.mask_meaning import MeaninglessMask
    from evaluation.engines import RegionSession

    photo = tmp_path / "1.jpg"
    Image.new("RGB", (28, 28), (250, 250, 250)).save(photo)

    class Refusing:
        config = Recommender(backbone=None, catalog=constructed_catalog(np.eye(8)[:3] + 0.1)).config

        def recommend(self, **kwargs):
            return Slate((SlateItem(2, 0.0, ""), SlateItem(3, 0.0, "")))

        def derive_feedback(self, **kwargs):
            raise MeaninglessMask("only the background")

    session = RegionSession(Refusing(), lambda pid: str(photo))
    landing = session.start(1, 2)
    assert session.feedback(1, np.ones((28, 28), dtype=bool), 2) == landing and session.refused == 1
    assert session.signals == []


def test_region_sessions_scope_feedback_to_its_article_type(tmp_path):
    from embeddings.engine.types import FeedbackSignal
    from evaluation.engines import RegionSession

    types = {1: "Tshirts", 2: "Tshirts", 3: "Watches"}
    session = RegionSession(None, lambda pid: "", type_of=types.__getitem__)
    session.signals = [FeedbackSignal(1, np.zeros((7, 7)), {}), FeedbackSignal(3, np.zeros((7, 7)), {})]
    assert [s.seed_id for s in session.in_scope(2)] == [1]
    assert [s.seed_id for s in session.in_scope(3)] == [3]
    assert len(RegionSession(None, lambda pid: "").in_scope(2)) == 0
