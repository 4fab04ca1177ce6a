"""The web process's catalog view: new versions noticed, fresh products found, removed products never returned."""

import numpy as np
import pytest

from catalog.models import Product
from embeddings.engine.cell_shapes import SHAPE_CHANNELS
from embeddings.selectors import nearest_products
from embeddings.services import embed_images_batch, index_build, index_rollback
from embeddings.serving.catalog_reloader import get_catalog_view
from embeddings.tests.fakes import file_features
from embeddings.tests.products import catalog_ids, make_product, make_products

pytestmark = pytest.mark.django_db


def _embed(images, backbone) -> None:
    embed_images_batch(image_ids=[i.id for i in images], backbone=backbone)


def test_exact_fallback_without_index(fake_backbone):
    images = make_products(10)
    _embed(images, fake_backbone)
    view = get_catalog_view()
    assert view.version is None
    pid = images[3].product_id
    ids, sims = view.search(view.features([pid]).vectors[0], 3)
    assert ids[0] == pid and sims[0] == pytest.approx(1.0, abs=1e-4) and len(ids) == 3


def test_new_version_noticed_and_fresh_products_searchable_before_rebuild(fake_backbone):
    images = make_products(20)
    _embed(images, fake_backbone)
    first = index_build(backbone_version="fake-v1")
    view = get_catalog_view()
    assert view.version == first.version and len(view.fresh) == 0
    newcomers = [make_product(e) for e in catalog_ids(3, offset=20)]
    _embed(newcomers, fake_backbone)
    view = get_catalog_view()
    assert view.version == first.version  # no rebuild yet
    for image in newcomers:
        assert image.product_id in view
        query = file_features(fake_backbone, image.file.path).vector
        ids, _ = view.search(query, 5)
        assert ids[0] == image.product_id
    assert nearest_products(product_id=newcomers[0].product_id, k=5)[0][0] != newcomers[0].product_id
    second = index_build(backbone_version="fake-v1")
    view = get_catalog_view()
    assert view.version == second.version and newcomers[0].product_id in view.index
    index_rollback()
    assert get_catalog_view().version == first.version  # the rollback is noticed too, without restart
    assert newcomers[0].product_id in get_catalog_view()  # and the newcomers are fresh again


def test_removed_products_never_returned_and_k_kept(fake_backbone):
    images = make_products(25)
    _embed(images, fake_backbone)
    index_build(backbone_version="fake-v1")
    view = get_catalog_view()
    query = view.features([images[0].product_id]).vectors[0]
    before, _ = view.search(query, 10)
    removed = before[:6].tolist()
    Product.objects.filter(id__in=removed).update(is_active=False)
    ids, sims = get_catalog_view().search(query, 10)
    assert len(ids) == 10 and not set(ids.tolist()) & set(removed)
    assert np.all(np.diff(sims) <= 1e-6)
    assert removed[0] not in get_catalog_view()
    assert len(get_catalog_view().features(removed).product_ids) == 0
    assert all(pid not in removed for pid, _ in nearest_products(product_id=int(ids[0]), k=10))


def test_features_follow_requested_order_across_index_and_fresh(fake_backbone):
    images = make_products(8)
    _embed(images[:5], fake_backbone)
    index_build(backbone_version="fake-v1")
    _embed(images[5:], fake_backbone)
    wanted = [images[6].product_id, images[1].product_id, 999999, images[7].product_id]
    feats = get_catalog_view().features(wanted)
    assert feats.product_ids.tolist() == [wanted[0], wanted[1], wanted[3]]
    assert feats.vectors.dtype == np.float32 and feats.spatial.shape == (3, 7, 7, SHAPE_CHANNELS)
    assert feats.colours.shape == (3, 7, 7, 3)


def test_view_object_is_kept_while_nothing_changes(fake_backbone):
    images = make_products(6)
    _embed(images[:4], fake_backbone)
    index_build(backbone_version="fake-v1")
    first = get_catalog_view()
    assert get_catalog_view() is first  # checked again (interval 0) but unchanged: same object
    _embed(images[4:], fake_backbone)
    second = get_catalog_view()
    assert second is not first and images[5].product_id in second
