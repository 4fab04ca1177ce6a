"""manage.py evaluate end to end on a small catalog folder of real photos: shoppers, families, runs, outputs."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.management import CommandError, call_command

from embeddings.tests.fakes import FakeBackbone
from evaluation.digest import report_from_rows
from evaluation.shoppers import GridBrush, Shopper
from evaluation.shoppers.structure import StructureEyes


class OutsideShopper:
    """A shopper model from outside the package, given by dotted path."""

    @classmethod
    def build(cls, catalog, cache_dir) -> Shopper:
        return Shopper("outside", StructureEyes.build(catalog, cache_dir), GridBrush())


@pytest.fixture
def fake_backbone(monkeypatch):
    backbone = FakeBackbone()
    monkeypatch.setattr("embeddings.serving.backbone.get_backbone", lambda: backbone)
    return backbone


def _rows(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_every_chosen_shopper_family_and_run_is_reported(fake_backbone, small_catalog_dir, tmp_path):
    jsonl, markdown = tmp_path / "out.jsonl.gz", tmp_path / "out.md"
    call_command(
        "evaluate",
        catalog_dir=str(small_catalog_dir),
        features_cache=str(tmp_path / "cache"),
        episodes=3,
        seed=4,
        shopper=["colour", "evaluation.tests.test_evaluate_command:OutsideShopper"],
        runs="no-repeat click-only,region,best_score,region: random cells",
        jsonl=str(jsonl),
        markdown=str(markdown),
    )
    rows = _rows(jsonl)
    summaries = [r for r in rows if r["kind"] == "summary"]
    assert {(r["shopper"], r["family"]) for r in summaries} == {
        (s, f) for s in ("colour", "outside") for f in ("standard", "same-colour")
    }
    expected_runs = ["no-repeat click-only", "region", "best_score", "region: random cells"]
    assert [r["run"] for r in summaries[:4]] == expected_runs
    episodes = [r for r in rows if r["kind"] == "episode"]
    assert len(episodes) == 2 * 2 * 4 * 3
    region = [r for r in episodes if r["run"] == "region"]
    assert all(r["seen"] and r["seen"][0]["slate"] == "after" for r in region if "feedback" in r["actions"])
    names = {r["name"] for r in rows if r["kind"] == "improvement"}
    assert names == {"region vs no-repeat click-only", "region vs best_score", "region vs region: random cells"}
    header = rows[0]
    assert header["kind"] == "header" and header["random seed"] == 4 and "w_pattern" in header["engine config"]
    report = markdown.read_text(encoding="utf-8")
    assert "| outside | same-colour | region |" in report and "What a person sees" in report
    assert "| colour | standard | " in report.split("### Headline")[1].split("###")[0]
    rerendered = report_from_rows(rows)  # the committed JSON lines give back the same tables
    assert rerendered.split("### Headline")[1] == report.split("### Headline")[1]


def test_unknown_run_or_shopper_is_a_clear_error(fake_backbone, small_catalog_dir, tmp_path):
    options = dict(catalog_dir=str(small_catalog_dir), features_cache=str(tmp_path / "cache"), episodes=1)
    with pytest.raises(CommandError, match="unknown runs"):
        call_command("evaluate", runs="region,teleport", **options)
    with pytest.raises(CommandError, match="unknown shopper"):
        call_command("evaluate", shopper=["psychic"], runs="region", **options)


@pytest.mark.slow
def test_two_processes_give_the_same_results_as_one(small_catalog_dir, tmp_path):
    """Spawned workers (real backbone) play the same episodes as one process; runs that need no backbone agree."""
    out = {}
    for jobs in (1, 2):
        jsonl = tmp_path / f"jobs{jobs}.jsonl.gz"
        call_command(
            "evaluate",
            catalog_dir=str(small_catalog_dir),
            features_cache=str(tmp_path / "cache"),
            episodes=4,
            seed=8,
            shopper=["structure"],
            family=["standard"],
            runs="no-repeat click-only,sum_scores,region",
            jobs=jobs,
            jsonl=str(jsonl),
        )
        out[jobs] = {(r["run"], r["episode"]): r for r in _rows(jsonl) if r["kind"] == "episode"}
    assert out[1].keys() == out[2].keys() and len(out[1]) == 12
    for key in out[1]:
        if key[0] != "region":  # region feedback runs a masked forward pass: float noise across thread settings
            assert out[1][key]["strict_slates"] == out[2][key]["strict_slates"]
            assert out[1][key]["actions"] == out[2][key]["actions"]
