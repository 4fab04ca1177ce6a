"""Serving a state loads the slate's products and photos in a fixed number of queries (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.tests.api.helpers import create_session, post, url
from feedback.tests.conftest import box_mask, rle_counts

pytestmark = pytest.mark.django_db


def queries(client, path: str, **query) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def image_queries(sqls: list[str]) -> int:
    """Queries reading product photos (what an N+1 over slate cards or history chips would multiply)."""
    return sum('"catalog_productimage"' in sql for sql in sqls)


def test_state_queries_do_not_grow_with_slate_or_history(api_client, shop_catalog):
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    path = url("session-detail", session_id=state["id"])
    body = {"rle": rle_counts(box_mask(40, 40, (0.0, 0.3, 1.0, 0.6))), "width": 40, "height": 40}
    post(api_client, "session-feedback", body, session_id=state["id"])
    queries(api_client, path, k=20)  # records the served products as shown once
    small, large = queries(api_client, path, k=3), queries(api_client, path, k=20)
    post(api_client, "session-feedback", body, session_id=state["id"])
    post(api_client, "session-feedback", body, session_id=state["id"])
    queries(api_client, path, k=20)
    longer = queries(api_client, path, k=20)
    assert image_queries(small) == image_queries(large) == image_queries(longer) == 1  # slate cards and chips together
    # The rest (session, signals, the engine's active-product checks) does not depend on k or the history.
    assert abs(len(large) - len(small)) <= 2 and abs(len(longer) - len(large)) <= 2
    assert len(longer) <= 30


def test_similar_queries_are_constant(client, shop_catalog):
    path = url("product-similar", pk=shop_catalog.by_type["Watches"][0])
    queries(client, path, k=2)  # the first request of the process loads the catalog view
    small, large = queries(client, path, k=2), queries(client, path, k=20)
    assert image_queries(small) == image_queries(large) == 2  # the product's card + the results' cards
    assert abs(len(large) - len(small)) <= 2
