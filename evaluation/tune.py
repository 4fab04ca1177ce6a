"""How engine settings are chosen: a grid of EngineConfig overrides, scored on tuning shoppers and seeds only.

`manage.py evaluate --tune [--grid file.json] [--jobs 2]` reads the grid (`tune_grid.json` beside this file: shopper
models, families, seeds, episodes, candidates), plays region feedback and the headline baseline (no-repeat
click-only) for every candidate, and ranks the candidates by the mean relative improvement in strict slates over the
baseline, averaged over every (tuning shopper, family, seed). Report on other seeds (and shopper models the grid
does not list): a gain that holds only where it was tuned is overfit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluation.evaluate import HEADLINE, runs_named
from evaluation.parallel import EvaluationContext, Plan, evaluate_plan

DEFAULT_GRID = Path(__file__).with_name("tune_grid.json")


def tune(
    factory_for: Callable[[dict], Callable[[], EvaluationContext]],
    grid_file: str | Path = DEFAULT_GRID,
    *,
    jobs: int = 1,
    command: str = "",
    progress: Callable[[str], None] | None = None,
) -> str:
    """Score every candidate of the grid; returns a markdown table, best candidate first."""
    grid = json.loads(Path(grid_file).read_text(encoding="utf-8"))
    scored = []
    for candidate in grid["candidates"]:
        gains, slates = [], []
        for seed in grid["seeds"]:
            plan = Plan(
                shoppers=tuple(grid["shoppers"]),
                families=tuple(grid["families"]),
                runs=runs_named(["region", HEADLINE]),
                episodes=int(grid["episodes"]),
                seed=int(seed),
            )
            for result in evaluate_plan(factory_for(candidate), plan, jobs=jobs, progress=progress):
                improvement = next(i for i in result.improvements(seed) if i["name"] == f"region vs {HEADLINE}")
                gains.append(improvement["strict"]["improvement"])
                slates.append(next(s for s in result.summaries() if s["run"] == "region")["strict_mean_slates"])
        scored.append((float(np.mean(gains)), float(np.mean(slates)), candidate, gains))
    scored.sort(key=lambda row: -row[0])
    lines = [
        "## Tuning grid",
        "",
        f"- command: `{command}`",
        f"- grid: `{Path(grid_file).name}`: shoppers {', '.join(grid['shoppers'])}; families "
        f"{', '.join(grid['families'])}; seeds {grid['seeds']}; {grid['episodes']} episodes",
        "",
        "| candidate (EngineConfig overrides) | mean strict gain vs no-repeat | region strict slates | "
        "per tuning run |",
        "|---|---|---|---|",
    ]
    for gain, mean_slates, candidate, per_run in scored:
        runs = ", ".join(f"{100 * g:+.0f}%" for g in per_run)
        lines.append(f"| `{json.dumps(candidate) or '{}'}` | {100 * gain:+.1f}% | {mean_slates:.2f} | {runs} |")
    return "\n".join(lines) + "\n"
