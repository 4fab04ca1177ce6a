"""Small helpers shared by the API tests."""

from django.urls import reverse


def url(name: str, **kwargs) -> str:
    """Reverse an API route by its name in the "api" namespace."""
    return reverse(f"api:{name}", kwargs=kwargs)


def create_session(client, seed_id: int | None = None, **query) -> dict:
    """POST sessions/ and return the state (asserting 201)."""
    body = {} if seed_id is None else {"seed_id": seed_id}
    response = client.post(url("session-list"), body, content_type="application/json", query_params=query)
    assert response.status_code == 201, response.content
    return response.json()


def post(client, name: str, body: dict | None = None, **kwargs):
    """POST JSON to a named session route."""
    return client.post(url(name, **kwargs), body or {}, content_type="application/json")
