"""Render every case of the gallery into a folder of PNGs plus its README.md index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from embeddings.engine.recommender import Recommender
from evaluation.gallery.cases import GalleryCase
from evaluation.gallery.index import gallery_index
from evaluation.gallery.render import product_lookup, render_case, save_png
from evaluation.gallery.shopper import SLATE_SIZE, CaseSlates, case_slates


def build_gallery(
    *,
    recommender: Recommender,
    catalog,
    cases: Sequence[GalleryCase],
    out_dir: str | Path,
    header: Mapping[str, str],
    k: int = SLATE_SIZE,
) -> list[CaseSlates]:
    """Write <out_dir>/<case name>.png for every case and <out_dir>/README.md; returns each case's slates."""
    out_dir = Path(out_dir)
    info = product_lookup(catalog)
    results, images = [], {}
    for case in cases:
        slates = case_slates(recommender, lambda pid: info(pid).path, case, k=k)
        images[case.name] = save_png(render_case(slates, info), out_dir / f"{case.name}.png").name
        results.append(slates)
    index = gallery_index(results, info, header=header, images=images)
    (out_dir / "README.md").write_text(index, encoding="utf-8")
    return results
