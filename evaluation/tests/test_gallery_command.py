"""manage.py feedback_gallery end to end on a tiny catalog folder (fake backbone, real photos)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from embeddings.tests.fakes import FakeBackbone

CASES = """
[[case]]
name = "tee-print"
product = 10008
label = "T-shirt: chest print"
why = "The print."
rectangles = [[64, 54, 152, 144]]

[[case]]
name = "bag-handle"
product = 10202
label = "Handbag: handles"
why = "The handles."
polygons = [[[64, 92], [96, 20], [150, 26], [172, 92]]]
notes = "Bags without the tall handles."
"""


@pytest.fixture
def fake_backbone(monkeypatch):
    backbone = FakeBackbone()
    monkeypatch.setattr("embeddings.serving.backbone.get_backbone", lambda: backbone)
    return backbone


def _run(tiny_catalog_dir, tmp_path, cases_text: str, **extra):
    cases = tmp_path / "cases.toml"
    cases.write_text(cases_text, encoding="utf-8")
    out = tmp_path / "gallery"
    options = dict(catalog_dir=str(tiny_catalog_dir), features_cache=str(tmp_path / "cache"), out=str(out))
    call_command("feedback_gallery", cases=str(cases), **options, **extra)
    return out


def test_command_writes_a_picture_per_case_and_the_index(fake_backbone, tiny_catalog_dir, tmp_path):
    out = _run(tiny_catalog_dir, tmp_path, CASES, engine='{"w_pattern": 1.5}')
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "bag-handle.png", "tee-print.png"]
    with Image.open(out / "tee-print.png") as img:
        assert img.format == "PNG" and img.height > 500
    index = (out / "README.md").read_text(encoding="utf-8")
    assert "feedback_gallery --catalog-dir" in index and "--engine" in index
    assert '`{"w_pattern": 1.5}` (overrides of EngineConfig defaults)' in index
    assert "- backbone: `fake-v1`" in index
    assert "## 1. T-shirt: chest print" in index and "(tee-print.png)" in index
    assert "## 2. Handbag: handles" in index and "Bags without the tall handles." in index


def test_command_reports_a_bad_case_by_name(fake_backbone, tiny_catalog_dir, tmp_path):
    with pytest.raises(CommandError, match=r"case 2 \(bag-handle\): product 99999 is not in the catalog"):
        _run(tiny_catalog_dir, tmp_path, CASES.replace("10202", "99999"))
    with pytest.raises(CommandError, match="--engine: unknown LOOKAWAY_ENGINE settings: nope"):
        _run(tiny_catalog_dir, tmp_path, CASES, engine='{"nope": 1}')
    assert not (tmp_path / "gallery").exists()
