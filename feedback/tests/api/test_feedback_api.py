"""Feedback endpoints over HTTP with the real model: add (PNG and RLE), history, mask PNG, undo, delete, errors."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from feedback.tests.api.helpers import create_session, post, url
from feedback.tests.conftest import CsrfClient, box_mask, png_data_url, rle_counts

pytestmark = pytest.mark.django_db

BAND = (0.0, 0.25, 1.0, 0.5)


def slate_ids(state: dict) -> list[int]:
    return [item["product"]["id"] for item in state["slate"]["items"]]


@pytest.fixture
def session(api_client, shop_catalog) -> dict:
    return create_session(api_client, shop_catalog.by_type["Tshirts"][0])


def add_feedback(client, session_id: str, **body):
    return post(client, "session-feedback", body, session_id=session_id)


def test_png_feedback_is_201_with_history_and_a_steered_slate(api_client, session):
    drawn = box_mask(336, 336, BAND)
    response = add_feedback(api_client, session["id"], mask=png_data_url(drawn), width=336, height=336)
    assert response.status_code == 201, response.content
    state = response.json()
    assert len(state["feedback"]) == 1
    chip = state["feedback"][0]
    assert set(chip) == {"id", "order", "seed", "active", "paused", "interpreted_as", "created_at", "mask_url"}
    assert chip["interpreted_as"] == "region"
    assert chip["order"] == 1 and chip["active"] and chip["seed"]["id"] == session["seed"]["id"]
    assert slate_ids(state) != slate_ids(session)
    png = api_client.get(chip["mask_url"])
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(png.content)) as image:
        assert image.mode == "RGBA" and image.size == (224, 224)
        alpha = np.asarray(image)[:, :, 3]
    assert np.array_equal(alpha > 0, box_mask(224, 224, BAND))


def test_rle_feedback_then_undo_and_delete_restore_earlier_slates(api_client, session):
    sid = session["id"]
    one = add_feedback(api_client, sid, rle=rle_counts(box_mask(100, 100, BAND)), width=100, height=100).json()
    two = add_feedback(api_client, sid, rle=rle_counts(box_mask(100, 100, (0, 0.6, 0.5, 1))), width=100, height=100)
    two = two.json()
    assert [chip["order"] for chip in two["feedback"]] == [1, 2]
    undone = post(api_client, "session-undo", session_id=sid).json()
    assert [chip["active"] for chip in undone["feedback"]] == [True, False]
    assert undone["slate"] == one["slate"]
    first_id = undone["feedback"][0]["id"]
    deleted = api_client.delete(url("session-feedback-detail", session_id=sid, feedback_id=first_id))
    assert deleted.status_code == 200
    assert deleted.json()["slate"] == session["slate"]
    nothing = post(api_client, "session-undo", session_id=sid)
    assert nothing.status_code == 400 and nothing.json() == {"feedback": ["There is no feedback to undo."]}
    missing = api_client.delete(url("session-feedback-detail", session_id=sid, feedback_id=999999))
    assert missing.status_code == 404


def test_feedback_persists_across_a_change_of_seed(api_client, session, shop_catalog):
    sid = session["id"]
    add_feedback(api_client, sid, rle=rle_counts(box_mask(50, 50, BAND)), width=50, height=50)
    state = post(api_client, "session-seed", {"product_id": shop_catalog.by_type["Tshirts"][1]}, session_id=sid)
    state = state.json()
    assert len(state["feedback"]) == 1 and state["feedback"][0]["seed"]["id"] == session["seed"]["id"]
    assert state["feedback"][0]["active"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"mask": png_data_url(box_mask(100, 100, BAND)), "width": 120, "height": 120}, "mask", "100x100"),
        ({"mask": png_data_url(np.zeros((40, 40), bool)), "width": 40, "height": 40}, "mask", "empty"),
        ({"mask": png_data_url(np.ones((40, 40), bool)), "width": 40, "height": 40}, "mask", "whole image"),
        ({"mask": "data:image/png;base64,@@@", "width": 40, "height": 40}, "mask", "base64"),
        ({"mask": "data:image/jpeg;base64," + _b64(_jpeg()), "width": 10, "height": 10}, "mask", "PNG data URL"),
        ({"mask": "data:image/png;base64," + _b64(_jpeg()), "width": 10, "height": 10}, "mask", "not a PNG"),
        ({"mask": 42, "width": 40, "height": 40}, "mask", "PNG data URL"),
        ({"rle": [10, 10], "width": 10, "height": 10}, "rle", "sum to 20"),
        ({"rle": [50, -1, 51], "width": 10, "height": 10}, "rle", "greater than or equal to 0"),
        ({"rle": "10,90", "width": 10, "height": 10}, "rle", "list"),
        ({"rle": [50, 50], "width": 0, "height": 10}, "width", "greater than or equal to 1"),
        ({"rle": [50, 50], "width": 10}, "height", "required"),
        ({"rle": [50, 50], "width": 10, "height": 10.5}, "height", "valid integer"),
        ({"rle": [25, 25], "width": 10, "height": 5}, "width", "aspect ratio"),
        ({"width": 10, "height": 10}, "mask", "exactly one"),
    ],
)
def test_bad_masks_are_400_with_field_names(api_client, session, body, field, words):
    response = add_feedback(api_client, session["id"], **body)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert words in str(errors[field])


def test_feedback_for_a_moved_on_seed_and_other_sessions(api_client, session, shop_catalog):
    body = {"rle": rle_counts(box_mask(10, 10, BAND)), "width": 10, "height": 10}
    stale = add_feedback(api_client, session["id"], seed_id=shop_catalog.by_type["Watches"][0], **body)
    assert stale.status_code == 400 and "seed_id" in stale.json()
    other = CsrfClient()
    assert add_feedback(other, session["id"], **body).status_code == 404
    event = add_feedback(api_client, session["id"], **body).json()["feedback"][0]
    assert other.get(event["mask_url"]).status_code == 404
    theirs = create_session(other, shop_catalog.by_type["Watches"][0])
    wrong = url("session-feedback-mask", session_id=theirs["id"], feedback_id=event["id"])
    assert other.get(wrong).status_code == 404  # their session, my feedback id
    assert (
        api_client.delete(
            url("session-feedback-detail", session_id=session["id"], feedback_id=event["id"]), csrf=False
        ).status_code
        == 403
    )


def test_malformed_feedback_ids_and_oversized_bodies(api_client, session):
    sid = session["id"]
    malformed = api_client.delete(f"{url('session-feedback', session_id=sid)}abc/")
    assert malformed.status_code == 404 and malformed.json() == {"detail": "No such feedback in this session."}
    huge = {"rle": [0] * 1_000_000, "width": 10, "height": 10}  # ~3 MB of JSON
    response = add_feedback(api_client, sid, **huge)
    assert response.status_code == 413 and "too large" in response.json()["mask"][0]


def test_masks_that_paint_no_product_are_400_and_the_whole_product_is_a_whole_item_dislike(api_client, session):
    width, height = session["seed"]["width"], session["seed"]["height"]
    corner = box_mask(width, height, (0.0, 0.0, 0.04, 0.04))  # the studio background in the top-left corner
    response = add_feedback(api_client, session["id"], mask=png_data_url(corner), width=width, height=height)
    assert response.status_code == 400 and "only the background" in response.json()["mask"][0]
    speck = np.zeros((height, width), dtype=bool)
    speck[height // 2, width // 2] = True  # one pixel of the T-shirt
    response = add_feedback(api_client, session["id"], mask=png_data_url(speck), width=width, height=height)
    assert response.status_code == 400 and "too little" in response.json()["mask"][0]
    assert api_client.get(url("session-detail", session_id=session["id"])).json()["feedback"] == []  # nothing kept

    everything = box_mask(width, height, (0.01, 0.01, 0.99, 0.99))  # all of the product (not the whole image: 400)
    response = add_feedback(api_client, session["id"], mask=png_data_url(everything), width=width, height=height)
    assert response.status_code == 201
    state = response.json()
    assert state["feedback"][0]["interpreted_as"] == "whole_item"
    # "not this one": the next products like the seed, none of those already shown
    assert not set(slate_ids(state)) & set(slate_ids(session))
    assert {item["reason"] for item in state["slate"]["items"]} == {"Similar, and not one you set aside"}
