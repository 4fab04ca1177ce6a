"""API request limits: body size (413 before parsing), JSON only, deep nesting, Django's own limits, throttling."""

import json
import time

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from feedback.api.views import MAX_FEEDBACK_BODY_BYTES
from feedback.models import ShoppingSession
from feedback.tests.api.helpers import create_session, url
from feedback.tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def sid(api_client) -> str:
    return create_session(api_client)["id"]


def _write_urls(sid: str) -> list[str]:
    return [
        url("session-list"),
        url("session-seed", session_id=sid),
        url("session-filters", session_id=sid),
        url("session-feedback", session_id=sid),
    ]


def test_bodies_over_the_limit_are_413_json_and_change_nothing(api_client, sid, settings):
    assert settings.LOOKAWAY_API_MAX_BODY_BYTES > MAX_FEEDBACK_BODY_BYTES  # a full-size mask still fits
    body = json.dumps({"seed_id": None, "product_id": 1, "junk": "x" * (3 * MB)})
    for target in _write_urls(sid):
        response = api_client.post(target, body, content_type="application/json")
        assert response.status_code == 413 and "too large" in json.dumps(response.json()), target
    assert ShoppingSession.objects.count() == 1
    assert ShoppingSession.objects.get().filters == {}


def test_djangos_own_body_limit_is_413_not_500(api_client, sid, settings):
    settings.LOOKAWAY_API_MAX_BODY_BYTES = 50 * MB  # let Django's DATA_UPLOAD_MAX_MEMORY_SIZE decide
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"gender": "x" * 5000})
    response = api_client.post(url("session-filters", session_id=sid), body, content_type="application/json")
    # DRF re-reads the body through HttpRequest.body, which raises RequestDataTooBig (was a logged 500).
    assert response.status_code == 413 and "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b'{"rle": ' + b"[" * 5000 + b"]"],
    ids=["array", "object", "unbalanced"],
)
def test_deeply_nested_json_is_a_400_parse_error(api_client, sid, raw):
    for target in _write_urls(sid):
        response = api_client.post(target, raw, content_type="application/json")
        assert response.status_code == 400 and "JSON parse error" in response.json()["detail"], target


def test_only_json_bodies_are_parsed(api_client, sid):
    upload = SimpleUploadedFile("mask.png", b"x" * 1000, content_type="image/png")
    multipart = api_client.post(url("session-filters", session_id=sid), {"gender": "Men", "file": upload})
    assert multipart.status_code == 415 and "Unsupported media type" in multipart.json()["detail"]
    form = api_client.post(
        url("session-filters", session_id=sid), "gender=Men", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 415
    assert ShoppingSession.objects.get().filters == {}


def test_unmatched_api_urls_answer_json_404(client):
    for path in ("/api/v1/products/abc/", "/api/v1/products/-1/similar/", "/api/v1/nothing/", "/api/v2/"):
        response = client.get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}, path
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_anonymous_session_creation_is_throttled_by_ip(settings):
    settings.LOOKAWAY_API_SESSION_CREATE_RATE = "3/minute"
    cache.clear()
    shopper = CsrfClient()
    codes = [shopper.post(url("session-list"), {}, content_type="application/json").status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    other_browser_same_ip = CsrfClient()
    assert other_browser_same_ip.post(url("session-list"), {}, content_type="application/json").status_code == 429
    session_id = ShoppingSession.objects.first().pk
    assert shopper.get(url("session-detail", session_id=session_id)).status_code == 200  # other routes unaffected
    assert shopper.post(url("session-reset", session_id=session_id), {}, content_type="application/json").status_code
    from_elsewhere = CsrfClient(REMOTE_ADDR="10.0.0.9")
    assert from_elsewhere.post(url("session-list"), {}, content_type="application/json").status_code == 201
    settings.LOOKAWAY_API_SESSION_CREATE_RATE = None  # the default outside production: no limit
    assert shopper.post(url("session-list"), {}, content_type="application/json").status_code == 201
    cache.clear()


def test_signed_in_users_are_not_throttled(settings, django_user_model):
    settings.LOOKAWAY_API_SESSION_CREATE_RATE = "1/minute"
    cache.clear()
    client = CsrfClient()
    client.force_login(django_user_model.objects.create_user("shopper", password="pw-1234-long"))
    codes = {client.post(url("session-list"), {}, content_type="application/json").status_code for _ in range(3)}
    assert codes == {201}
    assert Client().get(url("session-list")).status_code == 405
    cache.clear()


def test_the_schema_documents_the_limits(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    create = paths["/api/v1/sessions/"]["post"]["responses"]
    assert {"403", "413", "415", "429"} <= set(create)
    feedback = paths["/api/v1/sessions/{session_id}/feedback/"]["post"]["responses"]
    assert {"400", "403", "404", "413", "415"} <= set(feedback) and "429" not in feedback
    products = paths["/api/v1/products/"]["get"]["responses"]
    assert {"200", "400", "404", "406"} <= set(products) and "415" not in products


def test_a_million_rle_counts_are_checked_in_one_cheap_pass():
    """Found by the fuzzer: ListField(IntegerField) took ~17 s of CPU (loaded machine) for a 2 MB body of zeros."""
    from feedback.api.serializers import FeedbackCreateSerializer

    began = time.perf_counter()
    body = FeedbackCreateSerializer(data={"rle": [0] * 1_000_000, "width": 224, "height": 224})
    assert body.is_valid(), body.errors  # the counts are fine as a list; masks.mask_decode then refuses the sum
    assert time.perf_counter() - began < 3.0
    for bad, message in (([5, -1], "greater than or equal to 0"), ([5, 1.5], "valid integer"), ([True], "valid")):
        body = FeedbackCreateSerializer(data={"rle": bad, "width": 2, "height": 3})
        assert not body.is_valid() and message in str(body.errors["rle"]), bad
