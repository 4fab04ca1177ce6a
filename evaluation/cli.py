"""The evaluation end to end (framework-free): plan, parallel runs, JSON lines and the markdown report."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from evaluation.parallel import EvaluationContext, Plan, evaluate_plan
from evaluation.tables import markdown_report, write_jsonl


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
    factory: Callable[[], EvaluationContext],
    plan: Plan,
    engine_config,
    command: str,
    jobs: int = 1,
    jsonl: str | Path | None = None,
    markdown: str | Path | None = None,
    title: str = "",
    progress: Callable[[str], None] | None = None,
) -> str:
    """Run the plan; append JSON lines (header, summaries, improvements, seen, episodes) and the markdown report."""
    started = time.time()
    results = evaluate_plan(factory, plan, jobs=jobs, progress=progress)
    header = {
        "command": command,
        "random seed": plan.seed,
        "episodes per run": plan.episodes,
        "shopper models": ", ".join(r.shopper for r in results[:: len(plan.families)]),
        "episode families": ", ".join(plan.families),
        "default type filter": "on" if plan.type_filter else "off",
        "git revision": git_revision(),
        "engine config": json.dumps(dataclasses.asdict(engine_config)),
        "processes": jobs,
        "wall time": f"{time.time() - started:.0f} s",
    }
    summaries = [s for r in results for s in r.summaries()]
    improvements = [i for r in results for i in r.improvements(plan.seed)]
    seen = [s for r in results for s in r.seen()]
    title = title or f"Seed {plan.seed}, {plan.episodes} episodes"
    report = markdown_report(title, header, summaries, improvements, seen)
    if jsonl:
        rows = [{"kind": "header", **header}]
        rows += [{"kind": "summary", "seed": plan.seed, **s} for s in summaries]
        rows += [{"kind": "improvement", "seed": plan.seed, **i} for i in improvements]
        rows += [{"kind": "seen", "seed": plan.seed, **s} for s in seen]
        rows += [{"kind": "episode", "seed": plan.seed, **e} for r in results for e in r.episode_rows()]
        write_jsonl(jsonl, rows)
    if markdown:
        with open(markdown, "a", encoding="utf-8") as handle:
            handle.write("\n" + report)
    return report
