"""JSON lines and the markdown table of an evaluation run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_jsonl(path: str | Path, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows as JSON lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True) + "\n")


def _fmt_interval(r: dict[str, float]) -> str:
    return f"{100 * r['improvement']:+.0f}% [{100 * r['low']:+.0f}%, {100 * r['high']:+.0f}%]"


def markdown_table(summaries: Sequence[dict[str, Any]]) -> str:
    """One row per (engine, policy): success, slates to success, step time."""
    lines = [
        "| engine | policy | strict success | lenient success | strict slates mean / median | "
        "lenient slates mean / median | step ms p50 / p95 | feedback ms p50 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        lines.append(
            f"| {s['engine']} | {s['policy']} | {s['strict_success']:.3f} | {s['lenient_success']:.3f} | "
            f"{s['strict_mean_slates']:.2f} / {s['strict_median_slates']:.0f} | "
            f"{s['lenient_mean_slates']:.2f} / {s['lenient_median_slates']:.0f} | "
            f"{s['step_ms_median']:.1f} / {s['step_ms_p95']:.1f} | {s['feedback_ms_median']:.1f} |"
        )
    return "\n".join(lines)


def improvements_table(improvements: Sequence[dict[str, Any]]) -> str:
    """Relative improvement in mean slates to success, with 95% bootstrap intervals."""
    lines = ["| comparison | strict slates | lenient slates |", "|---|---|---|"]
    for imp in improvements:
        lines.append(f"| {imp['name']} | {_fmt_interval(imp['strict'])} | {_fmt_interval(imp['lenient'])} |")
    return "\n".join(lines)


def markdown_section(
    title: str, header: dict[str, Any], summaries: Sequence[dict], improvements: Sequence[dict]
) -> str:
    """A complete markdown section for one run: how it was made, the table, the improvements."""
    meta = "\n".join(f"- {key}: `{value}`" for key, value in header.items())
    return (
        f"## {title}\n\n{meta}\n\n{markdown_table(summaries)}\n\n"
        f"Relative improvement in mean slates to success (positive = fewer slates; 95% paired bootstrap):\n\n"
        f"{improvements_table(improvements)}\n"
    )
