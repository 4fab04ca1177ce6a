"""Runs the protocol: every (engine, policy) on the same episodes; figures, improvements, JSON lines, markdown."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from embeddings.engine.recommender import Recommender
from evaluation.data import EvalCatalog
from evaluation.engines import ClickShownSession, RegionSession, WholeItemSession
from evaluation.episodes import Episode
from evaluation.metrics import relative_improvement, summarise
from evaluation.runner import EpisodeResult, EpisodeRunner
from evaluation.shoppers import Shopper

logger = logging.getLogger(__name__)

# (engine, policy) pairs; click-only does not depend on the feedback engine, so it runs once.
RUNS = (
    ("plain", 1),
    ("plain+unseen", 1),
    ("region", 2),
    ("region", 4),
    ("average_vector", 3),
    ("average_vector", 4),
    ("best_score", 3),
    ("best_score", 4),
)


@dataclass
class EvaluationResult:
    """Per-episode results and summaries of every run."""

    results: dict[tuple[str, int], list[EpisodeResult]] = field(default_factory=dict)

    def summaries(self) -> list[dict]:
        """One summary dict per run, in run order."""
        return [{"engine": e, "policy": p, **summarise(r)} for (e, p), r in self.results.items()]

    def improvements(self, seed: int = 0) -> list[dict]:
        """Relative improvement of region feedback (policies 2 and 4) over click-only and whole-item feedback."""
        out = []
        pairs = [
            (("region", 2), ("plain", 1)),
            (("region", 2), ("average_vector", 3)),
            (("region", 2), ("best_score", 3)),
            (("region", 2), ("plain+unseen", 1)),
            (("region", 4), ("plain", 1)),
            (("region", 4), ("plain+unseen", 1)),
            (("region", 4), ("average_vector", 4)),
            (("region", 4), ("best_score", 4)),
        ]
        for ours, theirs in pairs:
            if ours in self.results and theirs in self.results:
                a, b = self.results[ours], self.results[theirs]
                out.append(
                    {
                        "name": f"{ours[0]} p{ours[1]} vs {theirs[0]} p{theirs[1]}",
                        "strict": relative_improvement(a, b, "strict_slates", seed),
                        "lenient": relative_improvement(a, b, "lenient_slates", seed),
                    }
                )
        return out

    def episode_rows(self) -> list[dict]:
        """Every episode result as a JSON-able row."""
        return [{"engine": e, "policy": p, **asdict(r)} for (e, p), rs in self.results.items() for r in rs]


def lenient_matcher(catalog: EvalCatalog):
    """match(p, target): same articleType, gender and baseColour."""
    codes = catalog.attribute_codes()
    row = {int(p): i for i, p in enumerate(catalog.product_ids)}
    return lambda p, t: bool((codes[row[int(p)]] == codes[row[int(t)]]).all())


def run_evaluation(
    recommender: Recommender,
    catalog: EvalCatalog,
    shopper: Shopper,
    episodes: Sequence[Episode],
    runs: Sequence[tuple[str, int]] = RUNS,
    use_shown: bool = True,
    signal_cache: dict | None = None,
) -> EvaluationResult:
    """Play every episode under every (engine, policy) run through the engine calls the API uses."""
    runner = EpisodeRunner(shopper, lenient_matcher(catalog))
    out = EvaluationResult()
    for engine, policy in runs:
        results = []
        for episode in episodes:
            if engine in ("region", "plain"):
                session = RegionSession(recommender, catalog.path, use_shown, signal_cache)
            elif engine == "plain+unseen":
                session = ClickShownSession(recommender, catalog.path)
            else:
                session = WholeItemSession(recommender, engine)
            results.append(runner.run(episode, policy, session))
        out.results[(engine, policy)] = results
        logger.info("%s policy %d: %s", engine, policy, summarise(results))
    return out
