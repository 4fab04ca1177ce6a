"""Rendering gallery cases on a tiny catalog of real photos with a fake backbone: slates, picture, index."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from embeddings.engine.recommender import EngineConfig
from embeddings.tests.fakes import FakeBackbone
from evaluation.gallery import render
from evaluation.gallery.cases import GalleryCase
from evaluation.gallery.index import TODO_NOTES, gallery_index, summarise
from evaluation.gallery.render import OTHER_TYPE, PAINT, product_lookup, render_case, save_png
from evaluation.gallery.shopper import case_slates
from evaluation.standalone import build_standalone

K = 4
CASE = GalleryCase(
    name="tee", product_id=10008, label="T-shirt: chest print", why="a print", rectangles=((64, 54, 152, 144),)
)


@pytest.fixture(scope="module")
def engine(tiny_catalog_dir, tmp_path_factory):
    recommender, catalog = build_standalone(
        tiny_catalog_dir, FakeBackbone(), tmp_path_factory.mktemp("features"), EngineConfig()
    )
    return recommender, catalog, product_lookup(catalog)


def _slates(engine, case=CASE):
    recommender, _, info = engine
    return case_slates(recommender, lambda pid: info(pid).path, case, k=K)


class RecordingRecommender:
    """Passes every call to the real recommender and records derive_feedback's and recommend's arguments."""

    def __init__(self, recommender) -> None:
        self.recommender, self.calls = recommender, []

    def similar(self, **kwargs):
        return self.recommender.similar(**kwargs)

    def derive_feedback(self, **kwargs):
        self.calls.append(("derive_feedback", kwargs))
        return self.recommender.derive_feedback(**kwargs)

    def recommend(self, **kwargs):
        self.calls.append(("recommend", kwargs))
        return self.recommender.recommend(**kwargs)


def test_slates_follow_the_shoppers_session(engine):
    recommender, _, info = engine
    recording = RecordingRecommender(recommender)
    slates = case_slates(recording, lambda pid: info(pid).path, CASE, k=K)
    assert slates.plain == recommender.similar(product_id=10008, k=K)
    (_, derive), (_, recommend) = recording.calls
    # The plain slate was shown and passed over: it travels with the feedback as weak negatives (feedback_add).
    assert tuple(derive["shown"]) == tuple(slates.plain.product_ids)
    assert derive["mask"].shape == (224, 224) and derive["mask"][100, 100] and not derive["mask"][10, 10]
    signal = recommend["feedback"][0]
    assert list(signal.arrays["passed_over"]) == sorted(slates.plain.product_ids)
    assert recommend["seed_id"] == 10008 and tuple(recommend["exclude"]) == (10008,) and recommend["k"] == K
    assert slates.after == recommender.recommend(seed_id=10008, feedback=(signal,), exclude=(10008,), k=K)
    assert len(slates.after.product_ids) == K and 10008 not in slates.after.product_ids


def _row_tops() -> tuple[int, int]:
    top = render.MARGIN + render.SEED_SIZE + render.MARGIN + render.TITLE
    return top, top + render.TITLE + render.THUMB + render.CAPTION + render.MARGIN


def _thumb_box(col: int, top: int) -> tuple[int, int, int, int]:
    x = render.MARGIN + col * (render.THUMB + render.GAP)
    return x, top, x + render.THUMB, top + render.THUMB


def _caption_has(picture: np.ndarray, col: int, top: int, colour) -> bool:
    x0, _, x1, _ = _thumb_box(col, top)
    caption = picture[top + render.THUMB + 2 : top + render.THUMB + 17, x0:x1].astype(int)
    return bool((np.abs(caption - np.asarray(colour)).sum(axis=2) < 60).any())


def test_picture_has_the_painted_seed_and_both_slates_with_captions(engine):
    _, _, info = engine
    slates = _slates(engine)
    picture = render_case(slates, info)
    pixels = np.asarray(picture)
    plain_top, after_top = _row_tops()
    assert picture.height == after_top + render.THUMB + render.CAPTION + render.MARGIN

    seed = np.asarray(Image.open(info(10008).path).convert("RGB"), dtype=int)
    top_left = render.MARGIN
    inside = pixels[top_left + 100, top_left + 100].astype(int)  # in the painted rectangle: tinted towards PAINT
    outside = pixels[top_left + 180, top_left + 30].astype(int)
    assert np.abs(inside - np.asarray(PAINT)).sum() < np.abs(seed[100, 100] - np.asarray(PAINT)).sum()
    assert np.abs(outside - seed[180, 30]).sum() < 30
    assert tuple(pixels[top_left + 54, top_left + 100]) == PAINT  # the outline

    seed_type = info(10008).article_type
    for top, ids in ((plain_top, slates.plain.product_ids), (after_top, slates.after.product_ids)):
        for col, product_id in enumerate(ids):
            x0, y0, x1, y1 = _thumb_box(col, top)
            photo = Image.open(info(product_id).path).convert("RGB").resize((render.THUMB, render.THUMB))
            cell = pixels[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4].astype(int)
            assert np.abs(cell - np.asarray(photo, dtype=int)[4:-4, 4:-4]).mean() < 3, product_id
            other = info(product_id).article_type != seed_type
            assert _caption_has(pixels, col, top, OTHER_TYPE) == other, product_id
            assert _caption_has(pixels, col, top, render.TEXT) != other, product_id
    plain_types = [info(p).article_type for p in slates.plain.product_ids]
    after_types = [info(p).article_type for p in slates.after.product_ids]
    assert {seed_type} < set(plain_types + after_types)  # the tiny catalog gives both kinds of caption


def test_png_is_small_and_deterministic(engine, tmp_path):
    _, _, info = engine
    first = save_png(render_case(_slates(engine), info), tmp_path / "a.png").read_bytes()
    second = save_png(render_case(_slates(engine), info), tmp_path / "b.png").read_bytes()
    assert first == second
    assert len(first) < 150_000
    with Image.open(tmp_path / "a.png") as img:
        assert img.mode == "P" and img.width == 2 * render.MARGIN + 8 * render.THUMB + 7 * render.GAP


def test_index_has_a_section_per_case_with_counts_and_notes(engine):
    _, _, info = engine
    slates = _slates(engine)
    summary = summarise(slates, info)
    assert summary.new_after == K and summary.size == K
    noted = dataclasses.replace(
        slates, case=dataclasses.replace(CASE, name="noted", notes="Looks right.", notes_after=(1, 2, 3, 4))
    )
    fresh = dataclasses.replace(
        slates,
        case=dataclasses.replace(
            CASE, name="fresh", notes="Still right.", notes_after=tuple(slates.after.product_ids)
        ),
    )
    text = gallery_index(
        [slates, noted, fresh],
        info,
        header={"made by": "`cmd`"},
        images={"tee": "tee.png", "noted": "noted.png", "fresh": "fresh.png"},
    )
    assert "- made by: `cmd`" in text
    assert "## 1. T-shirt: chest print" in text and "![T-shirt: chest print](tee.png)" in text
    assert f"**What a shopper would think:** {TODO_NOTES}" in text
    assert "(Written for an earlier slate [1, 2, 3, 4]; review.) Looks right." in text
    assert "**What a shopper would think:** Still right." in text
    assert f"| {summary.same_type_plain}/{K} | {summary.same_type_after}/{K} | {K}/{K} |" in text
    plain, after = 3 * summary.same_type_plain, 3 * summary.same_type_after
    assert f"| **all 3 cases** | | {plain}/{3 * K} | {after}/{3 * K} | {3 * K}/{3 * K} |" in text
