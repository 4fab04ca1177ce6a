"""Session API security: another browser sees nothing (404 on every route), CSRF on every write, state unchanged."""

from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model

from feedback.models import ShoppingSession
from feedback.tests.api.helpers import create_session, post, url
from feedback.tests.conftest import CsrfClient, box_mask, rle_counts

pytestmark = pytest.mark.django_db

# Every session route: (method, route name, body). {fid} is a feedback id of the session.
ROUTES = [
    ("get", "session-detail", None),
    ("post", "session-seed", {"product_id": None}),
    ("post", "session-filters", {"gender": "Men"}),
    ("post", "session-feedback", {"rle": None, "width": 10, "height": 10}),
    ("post", "session-undo", {}),
    ("post", "session-reset", {}),
    ("delete", "session-feedback-detail", None),
    ("get", "session-feedback-mask", None),
]
WRITES = [route for route in ROUTES if route[0] != "get"]


@pytest.fixture
def owned(api_client, shop_catalog) -> dict:
    """A session with one feedback, owned by api_client; the ids every route needs."""
    state = create_session(api_client, shop_catalog.by_type["Tshirts"][0])
    body = {"rle": rle_counts(box_mask(10, 10, (0.0, 0.25, 1.0, 0.5))), "width": 10, "height": 10}
    state = post(api_client, "session-feedback", body, session_id=state["id"]).json()
    return {"state": state, "fid": state["feedback"][0]["id"], "other_seed": shop_catalog.by_type["Watches"][0]}


def _request(client, method: str, name: str, body, owned: dict, **extra):
    kwargs = {"session_id": owned["state"]["id"]}
    if name in ("session-feedback-detail", "session-feedback-mask"):
        kwargs["feedback_id"] = owned["fid"]
    if body is not None:
        body = dict(body)
        if "product_id" in body:
            body["product_id"] = owned["other_seed"]
        if "rle" in body:
            body["rle"] = rle_counts(box_mask(10, 10, (0.5, 0.0, 1.0, 1.0)))
        extra.update(data=body, content_type="application/json")
    return getattr(client, method)(url(name, **kwargs), **extra)


def _snapshot(client, owned: dict) -> dict:
    state = client.get(url("session-detail", session_id=owned["state"]["id"])).json()
    return {key: state[key] for key in ("seed", "visited", "filters", "feedback")}


@pytest.mark.parametrize("stranger", ["another browser", "another user"])
def test_a_session_is_404_on_every_route_for_anyone_else(api_client, owned, stranger):
    other = CsrfClient()
    if stranger == "another user":
        other.force_login(get_user_model().objects.create_user("mallory", password="pw-1234-long"))
    create_session(other)  # has a session of its own (an owner token), just not this one
    before = _snapshot(api_client, owned)
    for method, name, body in ROUTES:
        response = _request(other, method, name, body, owned)
        assert response.status_code == 404 and response.json() == {"detail": "No such session."}, name
    assert _snapshot(api_client, owned) == before
    assert _request(api_client, "get", "session-feedback-mask", None, owned).status_code == 200


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_write_needs_the_csrf_token(api_client, owned, signed_in):
    if signed_in:
        user = get_user_model().objects.create_user("shopper", password="pw-1234-long")
        api_client.force_login(user)  # Django keeps the session data (owner token) on login
    before = _snapshot(api_client, owned)
    for method, name, body in WRITES:
        for headers in ({}, {"X-CSRFToken": "x" * 64}):
            response = _request(api_client, method, name, body, owned, csrf=False, headers=headers)
            assert response.status_code == 403 and response.json()["detail"].startswith("CSRF Failed"), name
    assert _snapshot(api_client, owned) == before
    # The same requests with the token are accepted (so the 403s above came from CSRF, not from the bodies).
    for method, name, body in WRITES:
        if name != "session-undo":
            assert _request(api_client, method, name, body, owned).status_code in (200, 201), name


def test_a_bad_slate_query_on_a_write_is_refused_before_the_write(api_client, owned):
    """Found by the fuzzer: POST seed/?k=abc changed the seed, then answered 400 for the query (feedback too)."""
    before = _snapshot(api_client, owned)
    for query in ({"k": "abc"}, {"page": "0"}, {"k": "51"}):
        for method, name, body in WRITES:
            response = _request(api_client, method, name, body, owned, QUERY_STRING=urlencode(query))
            assert response.status_code == 400 and set(response.json()) <= {"k", "page"}, (name, query)
    assert _snapshot(api_client, owned) == before
    created = api_client.post(f"{url('session-list')}?k=0", {}, content_type="application/json")
    assert created.status_code == 400 and ShoppingSession.objects.count() == 1
