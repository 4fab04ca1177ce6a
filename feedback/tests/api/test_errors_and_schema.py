"""Engine errors as 409, unexpected errors as logged JSON 500s, and the OpenAPI schema of the session API."""

import shutil

import pytest
from django.conf import settings
from django.urls import reverse
from drf_spectacular.drainage import reset_generator_stats
from drf_spectacular.generators import SchemaGenerator

from catalog.models import EmbeddingStatus, Product, ProductImage
from feedback import services
from feedback.tests.api.helpers import create_session, post, url
from feedback.tests.conftest import box_mask, rle_counts
from feedback.tests.shop import SHARED_CATALOG

pytestmark = pytest.mark.django_db

OUTSIDE_SHOP = 10004  # a real product photo the shop's index does not contain


@pytest.fixture
def unindexed(shop_catalog) -> Product:
    """An active product with an embedded photo that the engine's catalog does not hold yet."""
    assert OUTSIDE_SHOP not in shop_catalog.product_ids
    product = Product.objects.create(id=OUTSIDE_SHOP, external_id=str(OUTSIDE_SHOP), name="Fresh arrival")
    target = settings.MEDIA_ROOT / "products" / f"fresh-{OUTSIDE_SHOP}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHARED_CATALOG / "images" / f"{OUTSIDE_SHOP}.jpg", target)
    ProductImage.objects.create(
        product=product,
        file=f"products/fresh-{OUTSIDE_SHOP}.jpg",
        width=224,
        height=224,
        embedding_status=EmbeddingStatus.DONE,
    )
    return product


def test_a_seed_not_indexed_yet_is_409_with_a_message(api_client, unindexed):
    response = post(api_client, "session-list", {"seed_id": unindexed.pk})
    assert response.status_code == 409
    assert "not indexed yet" in response.json()["detail"]
    similar = api_client.get(url("product-similar", pk=unindexed.pk))
    assert similar.status_code == 409 and "not indexed yet" in similar.json()["detail"]


@pytest.mark.parametrize("status", [EmbeddingStatus.FAILED, EmbeddingStatus.PENDING])
def test_a_product_whose_photo_is_not_embedded_is_no_seed(api_client, unindexed, shop_catalog, status):
    unindexed.images.update(embedding_status=status, embedding_error="cannot identify image file")
    response = post(api_client, "session-list", {"seed_id": unindexed.pk})
    assert response.status_code == 400 and "seed_id" in response.json()
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    moved = post(api_client, "session-seed", {"product_id": unindexed.pk}, session_id=state["id"])
    assert moved.status_code == 400 and "product_id" in moved.json()


@pytest.mark.slow  # two extra forward passes for a photo that is not in the index
def test_feedback_on_an_unindexed_seed_still_steers_from_its_photo(api_client, unindexed, shop_catalog):
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    post(api_client, "session-seed", {"product_id": unindexed.pk}, session_id=state["id"])  # 409, seed is set
    body = {"rle": rle_counts(box_mask(20, 20, (0.0, 0.0, 1.0, 0.5))), "width": 20, "height": 20}
    response = post(api_client, "session-feedback", body, session_id=state["id"])
    assert response.status_code == 201 and len(response.json()["slate"]["items"]) == 8


def test_unexpected_errors_are_logged_json_500s(api_client, shop_catalog, monkeypatch, caplog):
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "session_state", broken)
    response = api_client.get(url("session-detail", session_id=state["id"]))
    assert response.status_code == 500 and response.json() == {"detail": "Internal server error."}
    assert any("boom" in (record.exc_text or str(record.exc_info)) for record in caplog.records)


MY_VIEWS = (
    "SessionCreateView",
    "SessionDetailView",
    "SessionSeedView",
    "SessionFiltersView",
    "FeedbackCreateView",
    "FeedbackUndoView",
    "FeedbackDetailView",
    "FeedbackMaskView",
    "SessionResetView",
    "ProductSimilarView",
)


def test_schema_describes_every_endpoint_without_warnings(capsys):
    reset_generator_stats()  # warnings already printed in this process would not be printed again
    schema = SchemaGenerator().get_schema(request=None, public=True)
    lines = capsys.readouterr().err.splitlines()
    problems = [line for line in lines if "feedback/api" in line or any(view in line for view in MY_VIEWS)]
    assert problems == []
    paths = schema["paths"]
    prefix = reverse("api:session-list")
    session = prefix + "{session_id}/"
    expected = {
        prefix: {"post"},
        session: {"get"},
        session + "seed/": {"post"},
        session + "filters/": {"post"},
        session + "feedback/": {"post"},
        session + "feedback/{feedback_id}/": {"delete"},
        session + "feedback/{feedback_id}/mask.png": {"get"},
        session + "undo/": {"post"},
        session + "reset/": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    feedback = paths[session + "feedback/"]["post"]
    assert feedback["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/FeedbackCreate")
    assert feedback["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/SessionState")
    assert {"400", "403", "404", "409"} <= set(feedback["responses"])
    mask = paths[session + "feedback/{feedback_id}/mask.png"]["get"]["responses"]["200"]["content"]
    assert "image/png" in mask
    similar = [path for path in paths if path.endswith("/similar/")]
    assert similar and "get" in paths[similar[0]]
