"""The evaluation run end to end (framework-free): episodes, runs, JSON lines and the markdown section."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from embeddings.engine.recommender import Recommender
from evaluation.data import EvalCatalog
from evaluation.episodes import draw_episodes
from evaluation.evaluate import RUNS, run_evaluation
from evaluation.shoppers import Shopper
from evaluation.tables import markdown_section, write_jsonl


def git_revision(cwd: str | Path = ".") -> str:
    """The working tree's git revision (with '+dirty' when it has changes), or 'unknown'."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=cwd, capture_output=True, text=True)
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if rev.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def evaluate_and_report(
    *,
    recommender: Recommender,
    catalog: EvalCatalog,
    shopper: Shopper,
    episodes: int,
    seed: int,
    command: str,
    jsonl: str | Path | None,
    markdown: str | Path | None,
    title: str,
    runs: Sequence[tuple[str, int]] = RUNS,
    use_shown: bool = True,
) -> str:
    """Run the protocol, append JSON lines, append a markdown section; returns the section."""
    started = time.time()
    result = run_evaluation(recommender, catalog, shopper, draw_episodes(catalog, episodes, seed), runs, use_shown)
    header = {
        "command": command,
        "random seed": seed,
        "episodes per policy": episodes,
        "git revision": git_revision(),
        "engine config": json.dumps(dataclasses.asdict(recommender.config)),
        "wall time": f"{time.time() - started:.0f} s",
    }
    section = markdown_section(title, header, result.summaries(), result.improvements(seed))
    if jsonl:
        rows = [{"kind": "summary", "seed": seed, **s} for s in result.summaries()]
        rows += [{"kind": "improvement", "seed": seed, **i} for i in result.improvements(seed)]
        rows += [{"kind": "episode", "seed": seed, **r} for r in result.episode_rows()]
        write_jsonl(jsonl, rows)
    if markdown:
        with open(markdown, "a", encoding="utf-8") as handle:
            handle.write("\n" + section)
    return section
