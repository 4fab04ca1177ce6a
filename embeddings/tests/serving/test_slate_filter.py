"""The engine's `allow` filter: active products matching the filters, one query per batch of unseen ids."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from embeddings.serving.slate_filter import SlateFilter, group_filter, slate_filter

pytestmark = pytest.mark.django_db


def test_allow_filter_answers_in_order_with_one_query_per_new_batch():
    shirt = Product.objects.create(external_id="s", name="Shirt", article_type="Tshirts", gender="Men")
    other = Product.objects.create(external_id="o", name="Other shirt", article_type="Tshirts", gender="Women")
    gone = Product.objects.create(external_id="g", name="Gone", article_type="Tshirts", gender="Men", is_active=False)
    watch = Product.objects.create(external_id="w", name="Watch", article_type="Watches", gender="Men")
    allow = SlateFilter(filters={"article_type": "tshirts", "gender": "Men"})  # case-insensitive values
    with CaptureQueriesContext(connection) as captured:
        first = allow(np.array([watch.pk, shirt.pk, gone.pk, other.pk, 999999]))
        again = allow(np.array([shirt.pk, watch.pk]))
    assert first.tolist() == [False, True, False, False, False]
    assert again.tolist() == [True, False]
    assert len(captured) == 1 and allow.queries == 1


def test_no_filter_set_means_no_allow_filter():
    """Without a filter the catalog view's own active check suffices: the engine gets no filter to call."""
    assert slate_filter({}) is None and slate_filter({"gender": "", "article_type": ""}) is None
    assert isinstance(slate_filter({"gender": "Men"}), SlateFilter)


def test_group_filter_reads_its_group_once_whatever_the_engine_asks():
    shirt = Product.objects.create(external_id="s", name="Shirt", article_type="Tshirts", gender="Men")
    other = Product.objects.create(external_id="o", name="Other shirt", article_type="Tshirts", gender="Women")
    gone = Product.objects.create(external_id="g", name="Gone", article_type="Tshirts", gender="Men", is_active=False)
    watch = Product.objects.create(external_id="w", name="Watch", article_type="Watches", gender="Men")
    kind = group_filter({"article_type": "tshirts", "gender": "Men"})
    with CaptureQueriesContext(connection) as captured:
        first = kind(np.array([watch.pk, shirt.pk, gone.pk, other.pk, 999999]))
        wider = kind(np.array([other.pk, shirt.pk, watch.pk, 424242]))  # a widening search: new ids, no new query
    assert first.tolist() == [False, True, False, False, False] and wider.tolist() == [False, True, False, False]
    assert len(captured) == 1 and kind.queries == 1
    assert group_filter({}) is None and group_filter({"gender": ""}) is None
