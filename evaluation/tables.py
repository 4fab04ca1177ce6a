"""JSON lines and the markdown tables of an evaluation (protocol v2, "Figures to report")."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_jsonl(path: str | Path, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows as JSON lines (gzip-compressed when the name ends in .gz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "at", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True) + "\n")


def _interval(r: dict[str, float]) -> str:
    return f"{100 * r['improvement']:+.0f}% [{100 * r['low']:+.0f}, {100 * r['high']:+.0f}]"


def summary_table(summaries: Sequence[dict[str, Any]]) -> str:
    """One row per (shopper, family, run): success in 15 slates, slates to success, engine time."""
    lines = [
        "| shopper | family | run | strict success | lenient success | strict slates mean / median | "
        "lenient slates mean / median | step ms p50 | feedback ms p50 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        lines.append(
            f"| {s['shopper']} | {s['family']} | {s['run']} | "
            f"{s['strict_success']:.2f} | {s['lenient_success']:.2f} | "
            f"{s['strict_mean_slates']:.2f} / {s['strict_median_slates']:.0f} | "
            f"{s['lenient_mean_slates']:.2f} / {s['lenient_median_slates']:.0f} | "
            f"{s['step_ms_median']:.1f} | {s['feedback_ms_median']:.1f} |"
        )
    return "\n".join(lines)


def improvements_table(improvements: Sequence[dict[str, Any]]) -> str:
    """Relative improvement in mean slates to success (positive = fewer slates), with 95% paired bootstrap."""
    lines = ["| shopper | family | comparison | strict slates | lenient slates |", "|---|---|---|---|---|"]
    for imp in improvements:
        lines.append(
            f"| {imp['shopper']} | {imp['family']} | {imp['name']} | {_interval(imp['strict'])} | "
            f"{_interval(imp['lenient'])} |"
        )
    return "\n".join(lines)


def headline_table(summaries: Sequence[dict[str, Any]], improvements: Sequence[dict[str, Any]]) -> str:
    """Per (shopper, family): strict success and slates of region feedback and the headline baseline, and region
    feedback's strict improvement over each baseline and ablation."""
    others = [
        name.removeprefix("region vs ")
        for name in dict.fromkeys(i["name"] for i in improvements)
        if name.startswith("region vs ")
    ]
    runs = {(s["shopper"], s["family"], s["run"]): s for s in summaries}
    gains = {(i["shopper"], i["family"], i["name"]): i["strict"] for i in improvements}
    lines = [
        "| shopper | family | region: strict success / slates | no-repeat click-only | "
        + " | ".join(f"vs {name}" for name in others)
        + " |",
        "|---|---|---|---|" + "---|" * len(others),
    ]
    for shopper, family in dict.fromkeys((s["shopper"], s["family"]) for s in summaries):
        region = runs.get((shopper, family, "region"))
        base = runs.get((shopper, family, "no-repeat click-only"))
        if not (region and base):
            continue
        cells = [_interval(gains[(shopper, family, f"region vs {name}")]) for name in others]
        lines.append(
            f"| {shopper} | {family} | {region['strict_success']:.2f} / {region['strict_mean_slates']:.2f} | "
            f"{base['strict_success']:.2f} / {base['strict_mean_slates']:.2f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def seen_table(rows: Sequence[dict[str, Any]]) -> str:
    """Person-facing figures: per run and feedback, the plain slate of the seed against the slate after feedback."""
    by_key: dict[tuple, dict[str, dict]] = {}
    for row in rows:
        by_key.setdefault((row["shopper"], row["family"], row["run"], row["feedback"]), {})[row["slate"]] = row
    lines = [
        "| shopper | family | run | feedback | type kept plain -> after | kept outside plain -> after | "
        "changed inside plain -> after |",
        "|---|---|---|---|---|---|---|",
    ]
    for (shopper, family, run, feedback), pair in by_key.items():
        plain, after = pair.get("plain"), pair.get("after")
        if not (plain and after):
            continue
        lines.append(
            f"| {shopper} | {family} | {run} | {feedback} | {plain['type_kept']:.2f} -> {after['type_kept']:.2f} | "
            f"{plain['kept_outside']:.2f} -> {after['kept_outside']:.2f} | "
            f"{plain['changed_inside']:.2f} -> {after['changed_inside']:.2f} |"
        )
    return "\n".join(lines)


def markdown_report(
    title: str, header: dict[str, Any], summaries: Sequence[dict], improvements: Sequence[dict], seen: Sequence[dict]
) -> str:
    """A complete markdown section for one evaluation: how it was made and its three tables."""
    meta = "\n".join(f"- {key}: `{value}`" for key, value in header.items())
    return (
        f"## {title}\n\n{meta}\n\n### Headline: region feedback against every baseline (strict slates)\n\n"
        f"{headline_table(summaries, improvements)}\n\n"
        f"### Success and slates to success\n\n{summary_table(summaries)}\n\n"
        f"### Improvement in mean slates to success (positive = fewer slates; 95% paired bootstrap)\n\n"
        f"{improvements_table(improvements)}\n\n"
        f"### What a person sees (shopper's own descriptors; plain slate of the same seed -> slate after feedback)\n\n"
        f"{seen_table(seen)}\n"
    )
