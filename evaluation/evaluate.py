"""Runs the protocol: every run (engine, policy, mask) on the same episodes; figures, improvements, what was seen."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from embeddings.engine.recommender import Recommender
from evaluation.data import EvalCatalog
from evaluation.engines import ClickShownSession, KindFilter, RegionSession, WholeItemSession, no_kind_filter
from evaluation.episodes import Episode
from evaluation.metrics import relative_improvement, summarise
from evaluation.runner import SEEN_FEEDBACKS, EpisodeResult, EpisodeRunner
from evaluation.shoppers import Shopper

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """One policy of the protocol: which engine, how the shopper acts, what mask the engine gets."""

    name: str
    engine: str  # "plain", "no-repeat", "region" or a whole-item rule
    policy: int
    mask_mode: str = "shopper"
    uses_backbone: bool = False  # runs a masked forward pass per feedback (the slow runs)


RUNS = (
    Run("click-only", "plain", 1),
    Run("no-repeat click-only", "no-repeat", 1),
    Run("region", "region", 2, uses_backbone=True),
    Run("region adaptive", "region", 4, uses_backbone=True),
    Run("average_vector", "average_vector", 3),
    Run("best_score", "best_score", 3),
    Run("sum_scores", "sum_scores", 3),
    Run("region: whole foreground", "region", 2, "whole", uses_backbone=True),
    Run("region: random cells", "region", 2, "random", uses_backbone=True),
)
RUNS_BY_NAME = {run.name: run for run in RUNS}
HEADLINE = "no-repeat click-only"
SEEN_KEYS = ("type_kept", "kept_outside", "changed_inside")
COMPARISONS = (
    ("region", HEADLINE),
    ("region", "click-only"),
    ("region", "average_vector"),
    ("region", "best_score"),
    ("region", "sum_scores"),
    ("region", "region: whole foreground"),
    ("region", "region: random cells"),
    ("region adaptive", HEADLINE),
)


def runs_named(names: Sequence[str]) -> tuple[Run, ...]:
    """The runs with these names, in protocol order (the comparisons need both sides to be present)."""
    unknown = sorted(set(names) - set(RUNS_BY_NAME))
    if unknown:
        raise ValueError(f"unknown runs {unknown}: choose from {', '.join(RUNS_BY_NAME)}")
    return tuple(run for run in RUNS if run.name in names)


def lenient_matcher(catalog: EvalCatalog):
    """match(p, target): same articleType, gender and baseColour."""
    codes = catalog.attribute_codes()
    row = {int(p): i for i, p in enumerate(catalog.product_ids)}
    return lambda p, t: bool((codes[row[int(p)]] == codes[row[int(t)]]).all())


def kind_matcher(catalog: EvalCatalog):
    """same_kind(p, seed): same articleType and gender (what "type kept" counts)."""
    codes = catalog.attribute_codes()[:, :2]
    row = {int(p): i for i, p in enumerate(catalog.product_ids)}
    return lambda p, s: bool((codes[row[int(p)]] == codes[row[int(s)]]).all())


def kind_filters(catalog: EvalCatalog) -> KindFilter:
    """The storefront's default filter for every policy: seed -> products of its articleType and gender first."""
    codes = catalog.attribute_codes()
    group = codes[:, 0] * (int(codes[:, 1].max()) + 1) + codes[:, 1]
    row = {int(p): i for i, p in enumerate(catalog.product_ids)}
    members: dict[int, np.ndarray] = {}

    def kind(seed: int):
        g = int(group[row[int(seed)]])
        if g not in members:
            members[g] = catalog.product_ids[group == g]
        ids = members[g]
        return lambda candidates: np.isin(np.asarray(candidates, dtype=np.int64), ids)

    return kind


def article_type_of(catalog: EvalCatalog):
    """product id -> its articleType (feedback steers slates of its own type, as in the storefront)."""
    row = {int(p): i for i, p in enumerate(catalog.product_ids)}
    return lambda product: str(catalog.article_type[row[int(product)]])


def session_for(
    run: Run, recommender: Recommender, catalog: EvalCatalog, kind: KindFilter, type_of: Callable[[int], str]
):
    """A fresh session engine for one episode of this run."""
    if run.engine in ("region", "plain"):
        return RegionSession(recommender, catalog.path, kind=kind, type_of=type_of)
    if run.engine == "no-repeat":
        return ClickShownSession(recommender, catalog.path, kind=kind)
    return WholeItemSession(recommender, run.engine, kind=kind)


def play_run(
    run: Run,
    recommender: Recommender,
    catalog: EvalCatalog,
    shopper: Shopper,
    episodes: Sequence[Episode],
    type_filter: bool = True,
) -> list[EpisodeResult]:
    """Every episode of one run, through the engine calls the API uses (with the storefront's default type filter
    unless type_filter is off)."""
    kind = kind_filters(catalog) if type_filter else no_kind_filter

    def plain(seed: int, visited: Sequence[int], k: int):
        return recommender.similar(product_id=seed, k=k, exclude=tuple(visited), prefer=kind(seed))

    runner = EpisodeRunner(
        shopper, lenient_matcher(catalog), same_kind=kind_matcher(catalog), plain=plain, mask_mode=run.mask_mode
    )
    type_of = article_type_of(catalog)
    return [
        runner.run(episode, run.policy, session_for(run, recommender, catalog, kind, type_of)) for episode in episodes
    ]


def seen_summary(results: Sequence[EpisodeResult]) -> list[dict]:
    """Mean person-facing figures per (feedback number, slate kind) over the episodes that got that far."""
    out = []
    for feedback in range(1, SEEN_FEEDBACKS + 1):
        for kind in ("plain", "after"):
            rows = [s for r in results for s in r.seen if s["feedback"] == feedback and s["slate"] == kind]
            if rows:
                out.append(
                    {
                        "feedback": feedback,
                        "slate": kind,
                        "n": len(rows),
                        **{key: float(np.nanmean([s[key] for s in rows])) for key in SEEN_KEYS},
                    }
                )
    return out


@dataclass
class EvaluationResult:
    """Per-episode results of every run for one (shopper model, episode family)."""

    shopper: str
    family: str
    results: dict[str, list[EpisodeResult]] = field(default_factory=dict)

    def summaries(self) -> list[dict]:
        """One summary dict per run, in protocol order."""
        return [
            {"shopper": self.shopper, "family": self.family, "run": name, **summarise(r)}
            for name, r in self._ordered()
        ]

    def improvements(self, seed: int = 0) -> list[dict]:
        """Relative improvement in slates to success of region feedback over the baselines and ablations."""
        out = []
        for ours, theirs in COMPARISONS:
            if ours in self.results and theirs in self.results:
                a, b = self.results[ours], self.results[theirs]
                out.append(
                    {
                        "shopper": self.shopper,
                        "family": self.family,
                        "name": f"{ours} vs {theirs}",
                        "strict": relative_improvement(a, b, "strict_slates", seed),
                        "lenient": relative_improvement(a, b, "lenient_slates", seed),
                    }
                )
        return out

    def seen(self) -> list[dict]:
        """Person-facing figures per run that gives feedback."""
        return [
            {"shopper": self.shopper, "family": self.family, "run": name, **row}
            for name, results in self._ordered()
            for row in seen_summary(results)
        ]

    def episode_rows(self) -> list[dict]:
        """Every episode result as a JSON-able row."""
        return [
            {"shopper": self.shopper, "family": self.family, "run": name, **asdict(r)}
            for name, rs in self._ordered()
            for r in rs
        ]

    def _ordered(self):
        return [(run.name, self.results[run.name]) for run in RUNS if run.name in self.results]


def run_evaluation(
    recommender: Recommender,
    catalog: EvalCatalog,
    shopper: Shopper,
    episodes: Sequence[Episode],
    family: str = "standard",
    runs: Sequence[Run] = RUNS,
    type_filter: bool = True,
) -> EvaluationResult:
    """Every run on the same episodes, in this process."""
    out = EvaluationResult(shopper.name, family)
    for run in runs:
        out.results[run.name] = play_run(run, recommender, catalog, shopper, episodes, type_filter)
        logger.info("%s / %s / %s: %s", shopper.name, family, run.name, summarise(out.results[run.name]))
    return out
