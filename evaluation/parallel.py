"""The whole evaluation (shopper models x episode families x runs) spread over worker processes.

Each task is one run of one shopper model on one family's episodes. Workers are started with `spawn` (never
`fork`: TensorFlow's threads do not survive a fork) and each builds its context once from `factory`, a picklable
callable returning an `EvaluationContext` (the recommender over the catalog, and the shopper models by name).
Episodes are drawn from (family, episodes, seed) in every worker, so all runs of a family share them. The runs
that call the backbone go first, so the cheap ones fill the gaps at the end.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from embeddings.engine.recommender import Recommender
from evaluation.data import EvalCatalog
from evaluation.episodes import Episode, draw_episodes
from evaluation.evaluate import RUNS_BY_NAME, EvaluationResult, Run, play_run
from evaluation.metrics import summarise
from evaluation.runner import EpisodeResult
from evaluation.shoppers import Shopper, load_shopper

logger = logging.getLogger(__name__)


@dataclass
class EvaluationContext:
    """What a worker needs: the engine over the catalog, and shopper models built once each."""

    recommender: Recommender
    catalog: EvalCatalog
    cache_dir: str
    shoppers: dict[str, Shopper] = field(default_factory=dict)

    def shopper(self, spec: str) -> Shopper:
        if spec not in self.shoppers:
            self.shoppers[spec] = load_shopper(spec, self.catalog, self.cache_dir)
        return self.shoppers[spec]


@dataclass(frozen=True)
class Task:
    shopper: str
    family: str
    run: str


@dataclass(frozen=True)
class Plan:
    """Shopper models (names or module:Class), episode families, runs, and the episodes' size and seed."""

    shoppers: tuple[str, ...]
    families: tuple[str, ...]
    runs: tuple[Run, ...]
    episodes: int
    seed: int
    type_filter: bool = True  # the storefront's default: the seed's articleType and gender first, for every run

    def tasks(self) -> list[Task]:
        tasks = [Task(s, f, r.name) for s in self.shoppers for f in self.families for r in self.runs]
        return sorted(tasks, key=lambda t: not RUNS_BY_NAME[t.run].uses_backbone)  # stable: slow runs first


_context: EvaluationContext | None = None
_episodes: dict[tuple[str, int, int], list[Episode]] = {}


def _init(factory: Callable[[], EvaluationContext]) -> None:
    global _context
    _context = factory()


def _play(task: Task, plan: Plan) -> tuple[Task, str, list[EpisodeResult], float]:
    assert _context is not None, "worker context not initialised"
    key = (task.family, plan.episodes, plan.seed)
    if key not in _episodes:
        _episodes[key] = draw_episodes(_context.catalog, plan.episodes, plan.seed, task.family)
    shopper = _context.shopper(task.shopper)
    began = time.monotonic()
    run = RUNS_BY_NAME[task.run]
    results = play_run(run, _context.recommender, _context.catalog, shopper, _episodes[key], plan.type_filter)
    return task, shopper.name, results, time.monotonic() - began


def evaluate_plan(
    factory: Callable[[], EvaluationContext], plan: Plan, jobs: int = 1, progress: Callable[[str], None] | None = None
) -> list[EvaluationResult]:
    """Play every task of the plan on `jobs` processes; one EvaluationResult per (shopper, family), in plan order."""
    tasks = plan.tasks()
    done: dict[tuple[str, str], EvaluationResult] = {}

    def collect(outcome, index: int) -> None:
        task, name, results, seconds = outcome
        result = done.setdefault((task.shopper, task.family), EvaluationResult(name, task.family))
        result.results[task.run] = results
        summary = summarise(results)
        line = (
            f"[{index}/{len(tasks)}] {name} / {task.family} / {task.run}: strict {summary['strict_success']:.2f}, "
            f"{summary['strict_mean_slates']:.2f} slates ({seconds:.0f} s)"
        )
        (progress or logger.info)(line)

    if jobs <= 1:
        _init(factory)
        for index, task in enumerate(tasks, 1):
            collect(_play(task, plan), index)
    else:
        with multiprocessing.get_context("spawn").Pool(jobs, initializer=_init, initargs=(factory,)) as pool:
            pending = [pool.apply_async(_play, (task, plan)) for task in tasks]
            for index, job in enumerate(pending, 1):
                collect(job.get(), index)
    ordered = []
    for shopper in plan.shoppers:
        for family in plan.families:
            result = done[(shopper, family)]
            result.results = {r.name: result.results[r.name] for r in plan.runs}
            ordered.append(result)
    return ordered
