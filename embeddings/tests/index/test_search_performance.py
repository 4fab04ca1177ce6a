"""The catalog view per request: active flags read once per snapshot, searches shared, no duplicate fresh set."""

from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from embeddings.engine.index import AnnoyCatalogView
from embeddings.services import embed_images_batch, index_build
from embeddings.serving.catalog_reloader import get_catalog_view
from embeddings.serving.request_cache import active_snapshot
from embeddings.tests.products import make_products

pytestmark = pytest.mark.django_db


def _indexed_view(fake_backbone, n: int = 30):
    images = make_products(n)
    embed_images_batch(image_ids=[i.id for i in images], backbone=fake_backbone)
    index_build(backbone_version="fake-v1")
    view = get_catalog_view()
    return view, [i.product_id for i in images]


def _active_queries(captured) -> int:
    return sum('"catalog_product"' in q["sql"] and "is_active" in q["sql"] for q in captured.captured_queries)


def test_a_snapshot_reads_each_active_flag_once(fake_backbone):
    view, ids = _indexed_view(fake_backbone)
    query = view.features([ids[0]]).vectors[0]
    with CaptureQueriesContext(connection) as outside:
        assert ids[0] in view and ids[0] in view
        view.search(query, 10)
        view.features(ids[:10])
    with active_snapshot(), CaptureQueriesContext(connection) as inside:
        assert ids[0] in view and ids[0] in view
        found, _ = view.search(query, 10)
        view.features(found.tolist())
        with active_snapshot():  # nested blocks share the outer snapshot
            view.features(ids[:5])
    assert _active_queries(outside) == 4
    assert _active_queries(inside) <= 3  # the seed, the candidates, the ids not seen yet


def test_outside_a_snapshot_a_deactivated_product_disappears_at_once(fake_backbone):
    view, ids = _indexed_view(fake_backbone)
    query = view.features([ids[0]]).vectors[0]
    with active_snapshot():
        before, _ = view.search(query, 5)
    Product.objects.filter(pk=before[1]).update(is_active=False)
    with active_snapshot():  # the next request sees it
        after, _ = view.search(query, 5)
        assert int(before[1]) not in view
    assert int(before[1]) not in after.tolist() and len(after) == 5


def test_the_same_vector_is_searched_once_per_snapshot(fake_backbone, monkeypatch):
    view, ids = _indexed_view(fake_backbone)
    query = view.features([ids[0]]).vectors[0]
    calls = []
    original = AnnoyCatalogView.search
    monkeypatch.setattr(AnnoyCatalogView, "search", lambda self, q, k: calls.append(k) or original(self, q, k))
    with active_snapshot():
        wide, wide_sims = view.search(query, 20)
        narrow, narrow_sims = view.search(query, 8)  # the engine's second pool around the same vector
        other, _ = view.search(view.features([ids[5]]).vectors[0], 8)
    assert len(calls) == 2
    assert narrow.tolist() == wide[:8].tolist() and np.allclose(narrow_sims, wide_sims[:8])
    assert other[0] == ids[5]
    direct, _ = view.search(query, 8)  # outside a snapshot: searched again, same answer
    assert len(calls) == 3 and direct.tolist() == narrow.tolist()


def test_fresh_set_leaves_out_unchanged_copies_of_indexed_products(fake_backbone, monkeypatch):
    monkeypatch.setattr("embeddings.serving.live_catalog.FRESH_OVERLAP", timedelta(minutes=2))  # as in production
    images = make_products(12)
    embed_images_batch(image_ids=[i.id for i in images], backbone=fake_backbone)
    index_build(backbone_version="fake-v1")
    view = get_catalog_view()
    # Every embedding is within the overlap, so the fresh query returns all 12 again: none differ from the index.
    assert len(view.index) == 12 and len(view.fresh) == 0
    newcomers = make_products(2, offset=12)
    embed_images_batch(image_ids=[i.id for i in newcomers], backbone=fake_backbone)
    view = get_catalog_view()
    assert sorted(view.fresh.product_ids.tolist()) == sorted(i.product_id for i in newcomers)
    assert all(i.product_id in view for i in newcomers)
