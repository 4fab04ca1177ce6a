"""Fixtures for the pipeline and index tests: the fake embedder, wired into the embedding service."""

from datetime import timedelta

import pytest

from embeddings.serving.catalog_reloader import reset_catalog_view
from embeddings.tests.fakes import FakeBackbone, fake_run_embedder


@pytest.fixture
def fake_backbone(monkeypatch, settings):
    """Embed with the deterministic fake; index files go to a fresh directory; fresh set checked on every request."""
    backbone = FakeBackbone()
    monkeypatch.setattr("embeddings.services.embedding.load_backbone", lambda: backbone)
    monkeypatch.setattr("embeddings.services.embedding.run_embedder", fake_run_embedder)
    settings.LOOKAWAY_FRESH_CHECK_SECONDS = 0
    settings.LOOKAWAY_ANNOY_TREES = 10
    settings.LOOKAWAY_ANNOY_SEARCH_K = -1
    monkeypatch.setattr("embeddings.serving.live_catalog.FRESH_OVERLAP", timedelta(0))
    reset_catalog_view()
    yield backbone
    reset_catalog_view()


@pytest.fixture(autouse=True)
def _own_index_dir(settings, tmp_path):
    settings.LOOKAWAY_INDEX_DIR = tmp_path / "index"
    settings.REDIS_URL = None  # single process: no coordination needed (the Redis paths have their own tests)
    settings.MEDIA_ROOT = tmp_path / "media"
