"""The hot endpoints' cost per request: a bounded number of SQL queries, and no model or index loading."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.tests.api.helpers import create_session, post, url
from feedback.tests.conftest import box_mask, png_data_url

pytestmark = pytest.mark.django_db

# Measured with three feedbacks in the history (before the fixes: GET 16, seed 26, feedback 29, similar 9).
MAX_QUERIES = {"state": 8, "seed": 13, "feedback": 14, "similar": 8}  # the engine's own budget (no default filter)


def _feedback_body(state: dict) -> dict:
    width, height = state["seed"]["width"], state["seed"]["height"]
    return {"mask": png_data_url(box_mask(width, height, (0.2, 0.3, 0.7, 0.6))), "width": width, "height": height}


def _active_checks(captured) -> int:
    """Queries on products that check `is_active` (in their WHERE clause, not merely selecting the column)."""
    return sum(
        'FROM "catalog_product"' in q["sql"] and '"is_active"' in q["sql"].partition(" WHERE ")[2]
        for q in captured.captured_queries
    )


@pytest.fixture
def busy_session(api_client, shop_catalog) -> dict:
    """A session on a seed with three feedbacks and one seed change behind it, without the default type filter
    (its cost is measured on its own below)."""
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    state = post(api_client, "session-filters", {"keep_type": False}, session_id=state["id"]).json()
    for _ in range(2):
        state = post(api_client, "session-feedback", _feedback_body(state), session_id=state["id"]).json()
    state = post(api_client, "session-seed", {"product_id": state["slate"]["items"][0]["product"]["id"]},
                 session_id=state["id"]).json()  # fmt: skip
    return post(api_client, "session-feedback", _feedback_body(state), session_id=state["id"]).json()


def test_session_endpoints_stay_within_their_query_budget(api_client, busy_session, django_assert_max_num_queries):
    session_id = busy_session["id"]
    with django_assert_max_num_queries(MAX_QUERIES["state"]):
        assert api_client.get(url("session-detail", session_id=session_id)).status_code == 200
    target = busy_session["slate"]["items"][1]["product"]["id"]
    with django_assert_max_num_queries(MAX_QUERIES["seed"]), CaptureQueriesContext(connection) as seed:
        state = post(api_client, "session-seed", {"product_id": target}, session_id=session_id)
    assert state.status_code == 200
    with django_assert_max_num_queries(MAX_QUERIES["feedback"]), CaptureQueriesContext(connection) as feedback:
        answer = post(api_client, "session-feedback", _feedback_body(state.json()), session_id=session_id)
    assert answer.status_code == 201 and len(answer.json()["feedback"]) == 4
    # The engine asks about active products for the seed, each pool and the features: one snapshot per request
    # answers them with one query per pool of new candidates (before: 8 per slate); the service's own check of the
    # seed answers the engine's questions about it.
    assert _active_checks(seed) <= 3 and _active_checks(feedback) <= 3


def test_similar_stays_within_its_query_budget(client, shop_catalog, django_assert_max_num_queries):
    path = url("product-similar", pk=shop_catalog.by_type["Watches"][0])
    assert client.get(path).status_code == 200  # the first request of the process loads the catalog view
    with django_assert_max_num_queries(MAX_QUERIES["similar"]):
        assert client.get(path, {"k": 20}).status_code == 200


def test_no_request_loads_the_model_or_the_index(api_client, busy_session, monkeypatch):
    """After the first request, the process's backbone, index mapping and engine are reused as they are."""
    from embeddings.serving import backbone as backbone_module
    from embeddings.serving import catalog_reloader
    from embeddings.serving.shared_recommender import get_recommender

    engine = get_recommender()

    def refuse(*args, **kwargs):
        raise AssertionError("loaded during a request")

    monkeypatch.setattr(backbone_module, "build_backbone", refuse)
    monkeypatch.setattr(catalog_reloader, "index_choose_usable", refuse)
    monkeypatch.setattr(catalog_reloader.CatalogReloader, "_load_index", refuse)
    session_id = busy_session["id"]
    assert api_client.get(url("session-detail", session_id=session_id)).status_code == 200
    state = post(api_client, "session-seed", {"product_id": busy_session["slate"]["items"][2]["product"]["id"]},
                 session_id=session_id)  # fmt: skip
    assert post(api_client, "session-feedback", _feedback_body(state.json()), session_id=session_id).status_code == 201
    assert get_recommender() is engine


def test_decoded_feedback_signals_are_reused(api_client, busy_session, monkeypatch):
    """A slate decodes each stored feedback signal once per process, not on every request."""
    from embeddings.engine.types import FeedbackSignal

    decoded = []
    original = FeedbackSignal.from_bytes.__func__
    counting = classmethod(lambda cls, data: decoded.append(1) or original(cls, data))
    monkeypatch.setattr(FeedbackSignal, "from_bytes", counting)
    session_id = busy_session["id"]
    for _ in range(3):
        assert api_client.get(url("session-detail", session_id=session_id)).status_code == 200
    assert decoded == []  # the three signals were cached when they were stored


def test_the_default_type_filter_costs_one_query_for_its_group(api_client, shop_catalog):
    """Keeping the seed's kind reads the ids of that kind once per request; searches that widen to find enough of
    them (the small test shop has few of each kind) only add the catalog view's active checks of new candidates."""
    from embeddings.engine.ranking.pool import MAX_WIDENINGS

    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    assert state["default_filter"]
    target = state["slate"]["items"][0]["product"]["id"]
    with CaptureQueriesContext(connection) as seed:
        answer = post(api_client, "session-seed", {"product_id": target}, session_id=state["id"])
    assert answer.status_code == 200 and answer.json()["default_filter"]
    wheres = [q["sql"].partition(" WHERE ")[2] for q in seed.captured_queries]
    group = [w for w in wheres if '"article_type"' in w and '"gender"' in w and " IN (" not in w]  # any backend
    assert len(group) == 1
    assert len(seed.captured_queries) <= MAX_QUERIES["seed"] + 1 + MAX_WIDENINGS
