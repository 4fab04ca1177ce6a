"""manage.py evaluate: the simulated-shopper protocol v2 against the engine (docs/EVALUATION.md)."""

from __future__ import annotations

import json
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from evaluation.episodes import FAMILIES
from evaluation.evaluate import RUNS, runs_named
from evaluation.parallel import Plan
from evaluation.shoppers import SHOPPERS


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Command(BaseCommand):
    help = (
        "Run the simulated-shopper evaluation (every shopper model x episode family x run by default); append "
        "JSON lines and a markdown report. --tune chooses engine settings on tuning shoppers and seeds instead."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--episodes", type=int, default=300, help="episodes per run (protocol: at least 300)")
        parser.add_argument("--seed", type=int, default=1, help="random seed of the episodes")
        parser.add_argument(
            "--shopper",
            action="append",
            default=[],
            help=f"shopper model: {', '.join(SHOPPERS)} or module:Class (repeat; default: all registered)",
        )
        parser.add_argument("--family", action="append", choices=FAMILIES, default=[], help="repeat; default both")
        parser.add_argument(
            "--runs", default="", help=f"comma-separated runs (default all): {', '.join(r.name for r in RUNS)}"
        )
        parser.add_argument("--jobs", type=int, default=1, help="worker processes (2 uses both cores here)")
        parser.add_argument(
            "--no-type-filter",
            action="store_true",
            help="without the storefront's default filter (the seed's article type and gender first) in every run",
        )
        parser.add_argument("--catalog-dir", help="standalone mode: read this catalog folder (styles.csv, images/)")
        parser.add_argument("--features-cache", default="/tmp/lookaway-eval", help="feature and shopper caches")
        parser.add_argument("--jsonl", default="", help="append results as JSON lines (.gz: compressed)")
        parser.add_argument("--markdown", default="", help="append the markdown report to this file")
        parser.add_argument("--title", default="")
        parser.add_argument("--engine", default="{}", help="JSON overrides of EngineConfig fields")
        parser.add_argument("--tune", action="store_true", help="run the tuning grid (evaluation/tune.py) instead")
        parser.add_argument("--grid", default="", help="--tune: the grid file (default evaluation/tune_grid.json)")

    def handle(self, *args, **opts) -> None:
        from embeddings.serving.shared_recommender import engine_config
        from feedback.evaluation_context import DatabaseContext, StandaloneContext

        try:
            overrides = json.loads(opts["engine"])
            config = engine_config(overrides)
            runs = runs_named(_csv(opts["runs"])) if opts["runs"] else RUNS
        except (ValueError, TypeError) as exc:
            raise CommandError(str(exc)) from exc
        # one TensorFlow / BLAS thread per worker process: the processes use the cores
        if opts["jobs"] > 1:
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[var] = "1"
            os.environ["LOOKAWAY_TF_INTRA_OP_THREADS"] = os.environ["LOOKAWAY_TF_INTER_OP_THREADS"] = "1"

        def factory_for(engine: dict):
            if opts["catalog_dir"]:
                return StandaloneContext(opts["catalog_dir"], opts["features_cache"], engine)
            return DatabaseContext(opts["features_cache"], engine)

        command = "python manage.py evaluate " + " ".join(sys.argv[2:])
        if opts["tune"]:
            from evaluation.tune import DEFAULT_GRID, tune

            grid = opts["grid"] or DEFAULT_GRID
            report = tune(factory_for, grid, jobs=opts["jobs"], command=command, progress=self.stderr.write)
            if opts["markdown"]:
                with open(opts["markdown"], "a", encoding="utf-8") as handle:
                    handle.write("\n" + report)
            self.stdout.write(report)
            return

        from evaluation.cli import evaluate_and_report

        plan = Plan(
            shoppers=tuple(opts["shopper"] or SHOPPERS),
            families=tuple(opts["family"] or FAMILIES),
            runs=runs,
            episodes=opts["episodes"],
            seed=opts["seed"],
            type_filter=not opts["no_type_filter"],
        )
        try:
            report = evaluate_and_report(
                factory=factory_for(overrides),
                plan=plan,
                engine_config=config,
                command=command,
                jobs=opts["jobs"],
                jsonl=opts["jsonl"] or None,
                markdown=opts["markdown"] or None,
                title=opts["title"],
                progress=self.stderr.write,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report)
