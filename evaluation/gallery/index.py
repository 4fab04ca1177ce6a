"""The gallery's markdown index: how it was made, a summary table, and a section per case with its picture."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from evaluation.gallery.render import ProductInfo
from evaluation.gallery.shopper import CaseSlates

TODO_NOTES = "TODO: look at the picture and write two sentences on what a shopper would think."


@dataclass(frozen=True)
class CaseSummary:
    """Counts a reader checks first: how many slate products keep the seed's type, and how many are new."""

    same_type_plain: int
    same_type_after: int
    new_after: int
    size: int


def summarise(slates: CaseSlates, info: Callable[[int], ProductInfo]) -> CaseSummary:
    """Same-type and new-product counts of a case's two slates."""
    seed_type = info(slates.case.product_id).article_type
    plain, after = slates.plain.product_ids, slates.after.product_ids
    return CaseSummary(
        same_type_plain=sum(info(p).article_type == seed_type for p in plain),
        same_type_after=sum(info(p).article_type == seed_type for p in after),
        new_after=len(set(after) - set(plain)),
        size=len(after),
    )


def notes_text(slates: CaseSlates) -> str:
    """The case's notes, flagged when they were written for a different slate than the one rendered now."""
    case = slates.case
    if not case.notes:
        return TODO_NOTES
    if case.notes_after and tuple(case.notes_after) != tuple(slates.after.product_ids):
        return f"(Written for an earlier slate {list(case.notes_after)}; review.) {case.notes}"
    return case.notes


def gallery_index(
    results: Sequence[CaseSlates],
    info: Callable[[int], ProductInfo],
    *,
    header: Mapping[str, str],
    images: Mapping[str, str],
) -> str:
    """The README.md text; `images` maps each case name to its PNG file name (relative to the index)."""
    lines = [
        "# Feedback gallery",
        "",
        "Fixed (product, painted region) cases, each shown as a shopper sees it: the seed with the region they",
        "painted (tinted and outlined), the plain slate of visually similar products, and the slate after that",
        "feedback. Captions give each product's type, gender and colour; a red caption and frame marks a product",
        'of another type than the seed\'s, and "also above" marks a product already on the plain slate. The cases',
        "live in `evaluation/gallery/cases.toml`; the notes under each picture were written by looking at it and are",
        "flagged for review when a rerun renders a different slate after feedback. The same code, cases, catalog and",
        "feature cache give byte-identical pictures.",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += [
        "",
        "| case | seed type | same type, plain | same type, after | new after feedback |",
        "|---|---|---|---|---|",
    ]
    summaries = [summarise(r, info) for r in results]
    for number, (result, s) in enumerate(zip(results, summaries, strict=True), start=1):
        case = result.case
        anchor = f"#{number}-{case.name}"
        row = f"| [{case.label}]({anchor}) | {info(case.product_id).article_type} |"
        lines.append(f"{row} {s.same_type_plain}/{s.size} | {s.same_type_after}/{s.size} | {s.new_after}/{s.size} |")
    total = sum(s.size for s in summaries)
    plain, after, new = (
        sum(getattr(s, f) for s in summaries) for f in ("same_type_plain", "same_type_after", "new_after")
    )
    lines.append(f"| **all {len(results)} cases** | | {plain}/{total} | {after}/{total} | {new}/{total} |")
    for number, (result, s) in enumerate(zip(results, summaries, strict=True), start=1):
        case = result.case
        seed = info(case.product_id)
        lines += [
            "",
            f'<a id="{number}-{case.name}"></a>',
            f"## {number}. {case.label}",
            "",
            f"![{case.label}]({images[case.name]})",
            "",
            f"Seed {case.product_id} ({seed.article_type}, {seed.gender}, {seed.colour}). {case.why}",
            f"Same type: {s.same_type_plain}/{s.size} before, {s.same_type_after}/{s.size} after;"
            f" {s.new_after}/{s.size} products are new after feedback.",
            "",
            f"**What a shopper would think:** {notes_text(result)}",
        ]
    return "\n".join(lines) + "\n"
