"""The gallery's cases file: the committed one is valid and varied; bad cases fail with the case's name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.data import load_catalog_dir
from evaluation.gallery.cases import FRAME, CaseError, GalleryCase, load_cases

CASES_FILE = Path(__file__).resolve().parents[1] / "gallery" / "cases.toml"

GOOD = """
[[case]]
name = "tee"
product = 10008
label = "T-shirt print"
why = "a print"
rectangles = [[64, 54, 152, 144]]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_committed_cases_cover_many_product_types_with_real_regions():
    from config.shared import SHARED_CATALOG

    catalog = load_catalog_dir(SHARED_CATALOG)
    cases = load_cases(CASES_FILE, known_ids=catalog.product_ids.tolist())
    assert len(cases) >= 12
    types = {str(catalog.article_type[np.searchsorted(catalog.product_ids, c.product_id)]) for c in cases}
    assert len(types) >= 10, types
    for case in cases:
        painted = case.mask(FRAME, FRAME).mean()
        assert 0.005 < painted < 0.4, (case.name, painted)  # a part of the product, not nothing or everything


def test_unknown_product_names_the_case(tmp_path):
    path = _write(tmp_path, GOOD + GOOD.replace('"tee"', '"other"').replace("10008", "99999"))
    with pytest.raises(CaseError, match=r"case 2 \(other\): product 99999 is not in the catalog"):
        load_cases(path, known_ids=[10008])


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("rectangles = [[64, 54, 230, 144]]", r"case 1 \(tee\): rectangles\[0\]: point \(230, 144\) is outside"),
        ("polygons = [[[10, 10], [20, -1], [30, 30]]]", r"case 1 \(tee\): polygons\[0\]\[1\]: point .* is outside"),
        ("rectangles = [[100, 54, 64, 144]]", r"case 1 \(tee\): rectangles\[0\]: needs x0 < x1"),
        ("polygons = [[[10, 10], [20, 20]]]", r"case 1 \(tee\): polygons\[0\]: a polygon needs at least 3"),
        ("rectangles = []", r"case 1 \(tee\): give at least one of 'rectangles' or 'polygons'"),
    ],
)
def test_bad_regions_name_the_case_and_the_shape(tmp_path, region, message):
    path = _write(tmp_path, GOOD.replace("rectangles = [[64, 54, 152, 144]]", region))
    with pytest.raises(CaseError, match=message):
        load_cases(path)


def test_missing_fields_unknown_fields_and_duplicate_names_are_errors(tmp_path):
    with pytest.raises(CaseError, match=r"case 1 \(tee\): 'why' must be a non-empty string"):
        load_cases(_write(tmp_path, GOOD.replace('why = "a print"', "")))
    with pytest.raises(CaseError, match=r"case 1 \(tee\): unknown field\(s\) colour"):
        load_cases(_write(tmp_path, GOOD + 'colour = "red"\n'))
    with pytest.raises(CaseError, match=r"case 2 \(tee\): the name is used by an earlier case"):
        load_cases(_write(tmp_path, GOOD + GOOD))
    with pytest.raises(CaseError, match="cannot read the cases file"):
        load_cases(_write(tmp_path, "[[case]\n"))


def test_mask_follows_the_shapes_and_scales_with_the_photo():
    case = GalleryCase(
        name="c",
        product_id=1,
        label="l",
        why="w",
        rectangles=((0, 0, 112, 224),),
        polygons=(((112, 0), (224, 0), (224, 112)),),
    )
    full = case.mask(224, 224)
    assert full[:, :112].all()  # the rectangle: the left half
    assert full[10, 200] and not full[200, 200]  # the triangle: top right only
    small = case.mask(112, 56)  # a smaller photo of another shape: the same regions, scaled
    assert small.shape == (56, 112)
    assert small[:, :55].all() and not small[50, 100]
