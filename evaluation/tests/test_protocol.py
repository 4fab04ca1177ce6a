"""Episodes, the episode runner's policies, and the metrics, on a tiny made-up catalog."""

from __future__ import annotations

import numpy as np

from embeddings.engine.types import Slate, SlateItem
from evaluation.episodes import draw_episodes
from evaluation.metrics import relative_improvement, summarise
from evaluation.runner import EpisodeResult, EpisodeRunner
from evaluation.shoppers import GridBrush, Shopper
from evaluation.shoppers.colour import ColourEyes
from evaluation.tests.made_up import made_up_catalog


def test_episodes_follow_the_protocol_and_are_reproducible():
    cat = made_up_catalog()
    episodes = draw_episodes(cat, 50, seed=3)
    assert episodes == draw_episodes(cat, 50, seed=3)
    row = {int(p): i for i, p in enumerate(cat.product_ids)}
    for e in episodes:
        t, s = row[e.target], row[e.start]
        assert cat.article_type[t] != "Rare"
        assert cat.article_type[t] == cat.article_type[s] and cat.gender[t] == cat.gender[s]
        assert cat.colour[t] != cat.colour[s]


class ScriptedSession:
    """Shows fixed slates and records the calls it receives."""

    def __init__(self, slates):
        self.slates = list(slates)
        self.calls: list[tuple[str, int]] = []

    def _next(self) -> Slate:
        ids = self.slates.pop(0) if self.slates else [1]
        return Slate(tuple(SlateItem(i, 0.0, "") for i in ids))

    def start(self, seed, k):
        self.calls.append(("start", seed))
        return self._next()

    def feedback(self, seed, mask, k):
        self.calls.append(("feedback", seed))
        return self._next()

    def click(self, seed, k):
        self.calls.append(("click", seed))
        return self._next()


def _eyes() -> Shopper:
    # product p's image is a constant p: look distance = |p - q| * sqrt(3072)
    ids = np.arange(1, 11)
    small = np.repeat(ids.astype(np.float32)[:, None], 32 * 32 * 3, axis=1)
    shopper = Shopper(
        "test", ColourEyes(ids, small, np.zeros((10, 3), dtype=int), image_path=lambda p: ""), GridBrush()
    )
    shopper.mask = lambda seed, target, rng: np.ones((224, 224), dtype=bool)
    return shopper


def test_alternating_policy_gives_feedback_first_then_clicks_the_closest():
    from evaluation.episodes import Episode

    session = ScriptedSession([[2, 3], [4, 5], [7, 6], [9, 8], [10]])
    runner = EpisodeRunner(_eyes(), lenient_match=lambda p, t: p == t)
    result = runner.run(Episode(0, target=10, start=1), policy=2, session=session)
    assert [c[0] for c in session.calls] == ["start", "feedback", "click", "feedback", "click"]
    assert session.calls[2] == ("click", 5)
    assert session.calls[4] == ("click", 9)
    assert result.strict_slates == 5 and result.lenient_slates == 5


def test_adaptive_policy_clicks_only_when_a_product_looks_closer():
    from evaluation.episodes import Episode

    session = ScriptedSession([[2, 3], [1], [4]])
    runner = EpisodeRunner(_eyes(), lenient_match=lambda p, t: False)
    result = runner.run(Episode(0, target=5, start=9), policy=4, session=session)
    assert session.calls[:3] == [("start", 9), ("click", 3), ("feedback", 3)]
    assert result.strict_slates == 16 and len(result.step_ms) == 15


def test_metrics_count_failures_as_16_and_bootstrap_brackets_the_estimate():
    ours = [
        EpisodeResult(i, 0, 0, strict_slates=s, lenient_slates=s, step_ms=[1.0], actions=["start"])
        for i, s in enumerate([2, 4, 16])
    ]
    theirs = [
        EpisodeResult(i, 0, 0, strict_slates=16, lenient_slates=8, step_ms=[3.0], actions=["start"]) for i in range(3)
    ]
    summary = summarise(ours)
    assert np.isclose(summary["strict_success"], 2 / 3) and np.isclose(summary["strict_mean_slates"], 22 / 3)
    imp = relative_improvement(ours, theirs, "lenient_slates")
    assert np.isclose(imp["improvement"], 1 - (22 / 3) / 8)
    assert imp["low"] <= imp["improvement"] <= imp["high"]
