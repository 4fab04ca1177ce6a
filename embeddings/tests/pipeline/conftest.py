"""Fixtures of the pipeline tests: the fake embedder (shared with the index tests) and the test Redis."""

import os

import pytest
import redis

from embeddings.tests.fake_pipeline import _own_index_dir, fake_backbone  # noqa: F401

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client(settings) -> redis.Redis:
    """The test Redis (skipped when none answers), set as the coordination Redis of the code under test."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {TEST_REDIS_URL}")
    settings.REDIS_URL = TEST_REDIS_URL
    return client
