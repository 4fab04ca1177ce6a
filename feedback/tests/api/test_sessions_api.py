"""Session endpoints over HTTP: shapes, ownership, CSRF, seeds, filters, reset and `similar`."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from feedback.tests.api.helpers import create_session, post, url
from feedback.tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db

CARD_FIELDS = {
    "id",
    "external_id",
    "name",
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "base_colour",
    "season",
    "year",
    "usage",
    "image_url",
    "width",
    "height",
}


def test_create_returns_the_full_state(api_client, shop_catalog):
    seed = shop_catalog.by_type["Watches"][0]
    state = create_session(api_client, seed, k=5)
    assert set(state) == {"id", "seed", "visited", "filters", "keep_type", "default_filter", "feedback", "slate"}
    assert state["keep_type"] is True
    assert state["default_filter"] == {
        "article_type": state["seed"]["article_type"],
        "gender": state["seed"]["gender"],
    }
    assert set(state["seed"]) >= CARD_FIELDS and state["seed"]["id"] == seed
    assert state["seed"]["image_url"].startswith("http://testserver/media/products/")
    assert (state["seed"]["width"], state["seed"]["height"]) == (224, 224)
    assert state["visited"] == [] and state["filters"] == {} and state["feedback"] == []
    assert state["slate"]["page"] == 1 and state["slate"]["k"] == 5 and len(state["slate"]["items"]) == 5
    item = state["slate"]["items"][0]
    assert set(item) == {"product", "score", "reason"} and set(item["product"]) >= CARD_FIELDS
    assert isinstance(item["score"], float) and item["reason"]


def test_get_state_pages_and_default_slate_size(api_client, shop_catalog, settings):
    settings.LOOKAWAY_SLATE_SIZE = 6
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    assert state["slate"]["k"] == 6 and len(state["slate"]["items"]) == 6
    page2 = api_client.get(url("session-detail", session_id=state["id"]), {"page": 2, "k": 3}).json()
    assert page2["slate"] == {"page": 2, "k": 3, "items": state["slate"]["items"][3:6]}


@pytest.mark.parametrize(("query", "field"), [({"k": 0}, "k"), ({"k": 500}, "k"), ({"page": "x"}, "page")])
def test_bad_slate_queries_are_400_with_the_field(api_client, shop_catalog, query, field):
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    response = api_client.get(url("session-detail", session_id=state["id"]), query)
    assert response.status_code == 400 and field in response.json()


def test_sessions_are_isolated_between_browsers(api_client, shop_catalog):
    mine = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    other = CsrfClient()
    theirs = create_session(other, shop_catalog.by_type["Watches"][0])
    assert mine["id"] != theirs["id"]
    for client, session_id in ((other, mine["id"]), (api_client, theirs["id"])):
        assert client.get(url("session-detail", session_id=session_id)).status_code == 404
        response = post(
            client, "session-seed", {"product_id": shop_catalog.by_type["Handbags"][0]}, session_id=session_id
        )
        assert response.status_code == 404 and response.json() == {"detail": "No such session."}
        assert post(client, "session-reset", session_id=session_id).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api_client.get(url("session-detail", session_id=unknown)).json() == {"detail": "No such session."}
    assert api_client.get(url("session-detail", session_id="garbage")).status_code == 404


def test_a_signed_in_user_keeps_sessions_across_browsers(shop_catalog):
    get_user_model().objects.create_user("shopper", password="pw-1234-long")
    first, second = CsrfClient(), CsrfClient()
    first.login(username="shopper", password="pw-1234-long")
    state = create_session(first, shop_catalog.by_type["Tshirts"][0])
    second.login(username="shopper", password="pw-1234-long")
    assert second.get(url("session-detail", session_id=state["id"])).status_code == 200


def test_writes_without_the_csrf_token_are_403(api_client, shop_catalog):
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    seed_url = url("session-seed", session_id=state["id"])
    body = {"product_id": shop_catalog.by_type["Tshirts"][1]}
    response = api_client.post(seed_url, body, content_type="application/json", csrf=False)
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert api_client.post(url("session-list"), {}, content_type="application/json", csrf=False).status_code == 403
    assert api_client.get(url("session-detail", session_id=state["id"])).status_code == 200  # reads need none


def test_seed_change_reports_visited_and_unknown_products(api_client, shop_catalog):
    first, second = shop_catalog.by_type["Handbags"][:2]
    state = create_session(api_client, first)
    state = post(api_client, "session-seed", {"product_id": second}, session_id=state["id"]).json()
    assert state["seed"]["id"] == second and state["visited"] == [first]
    assert first not in [item["product"]["id"] for item in state["slate"]["items"]]
    response = post(api_client, "session-seed", {"product_id": 987654321}, session_id=state["id"])
    assert response.status_code == 400 and response.json() == {"product_id": ["No product with id 987654321."]}
    response = post(api_client, "session-seed", {"product_id": "abc"}, session_id=state["id"])
    assert response.status_code == 400 and "product_id" in response.json()
    response = post(api_client, "session-list", {"seed_id": 987654321})
    assert response.status_code == 400 and "seed_id" in response.json()


def test_filters_narrow_the_slate_and_unknown_names_are_refused(api_client, shop_catalog):
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    state = post(api_client, "session-filters", {"master_category": "Accessories"}, session_id=state["id"]).json()
    assert state["filters"] == {"master_category": "Accessories"}
    assert {item["product"]["master_category"] for item in state["slate"]["items"]} == {"Accessories"}
    response = post(api_client, "session-filters", {"colour": "Red"}, session_id=state["id"])
    assert response.status_code == 400 and response.json() == {"colour": ["Unknown filter."]}


def _kinds(state: dict) -> list[tuple[str, str]]:
    return [(i["product"]["article_type"], i["product"]["gender"]) for i in state["slate"]["items"]]


def test_the_default_type_filter_keeps_the_product_and_can_be_removed(api_client, shop_catalog):
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][3])
    seed_kind = (state["seed"]["article_type"], state["seed"]["gender"])
    assert state["keep_type"] is True
    assert state["default_filter"] == {"article_type": seed_kind[0], "gender": seed_kind[1]}
    kept = [kind == seed_kind for kind in _kinds(state)]
    assert kept == sorted(kept, reverse=True) and kept[0]  # the seed's kind first; other kinds only top it up
    removed = post(api_client, "session-filters", {"keep_type": False}, session_id=state["id"]).json()
    assert removed["keep_type"] is False and removed["default_filter"] == {}
    plain = api_client.get(url("product-similar", pk=state["seed"]["id"]), {"k": len(removed["slate"]["items"])})
    plain_ids = [r["product"]["id"] for r in plain.json()["results"]]
    assert [i["product"]["id"] for i in removed["slate"]["items"]] == plain_ids  # the plain neighbours again
    again = post(api_client, "session-filters", {"keep_type": True}, session_id=state["id"]).json()
    assert again["slate"] == state["slate"] and again["default_filter"] == state["default_filter"]
    # the shopper's own filter on a type field wins over the default
    own = post(api_client, "session-filters", {"article_type": "Watches"}, session_id=state["id"]).json()
    assert own["default_filter"] == {"gender": seed_kind[1]} and {k[0] for k in _kinds(own)} == {"Watches"}
    bad = post(api_client, "session-filters", {"keep_type": "sometimes"}, session_id=state["id"])
    assert bad.status_code == 400 and "keep_type" in bad.json()


def test_reset_keeps_the_seed(api_client, shop_catalog):
    first, second = shop_catalog.by_type["Watches"][:2]
    state = create_session(api_client, first)
    post(api_client, "session-seed", {"product_id": second}, session_id=state["id"])
    state = post(api_client, "session-reset", session_id=state["id"]).json()
    assert state["seed"]["id"] == second and state["visited"] == [] and state["feedback"] == []


def test_similar_products_endpoint(client, shop_catalog):
    seed = shop_catalog.by_type["Casual Shoes"][0]
    response = client.get(url("product-similar", pk=seed), {"k": 4, "article_type": "Casual Shoes"})
    assert response.status_code == 200
    body = response.json()
    assert body["product"]["id"] == seed and len(body["results"]) == 4
    assert {item["product"]["article_type"] for item in body["results"]} == {"Casual Shoes"}
    page2 = client.get(url("product-similar", pk=seed), {"k": 2, "page": 2, "article_type": "Casual Shoes"})
    assert page2.json()["results"] == body["results"][2:4]
    missing = client.get(url("product-similar", pk=987654321))
    assert missing.status_code == 404 and missing.json() == {"detail": "No product with id 987654321."}
    assert client.get(url("product-similar", pk=seed), {"k": -1}).status_code == 400


def test_a_client_without_pages_gets_its_csrf_cookie_from_any_get(shop_catalog):
    client = Client(enforce_csrf_checks=True)
    seed = shop_catalog.by_type["Tshirts"][0]
    assert client.post(url("session-list"), {"seed_id": seed}, content_type="application/json").status_code == 403
    client.get(url("product-similar", pk=seed), {"k": 1})
    token = client.cookies["csrftoken"].value
    response = client.post(
        url("session-list"), {"seed_id": seed}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
