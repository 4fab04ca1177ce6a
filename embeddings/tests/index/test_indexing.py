"""Index versions built from the database: one item per product, atomic swap, rollback, prune."""

import json

import numpy as np
import pytest

from catalog.models import ProductImage
from embeddings.engine.index import AnnoyCatalogView, IndexStore
from embeddings.models import IndexVersion
from embeddings.services import embed_images_batch, index_build, index_rollback
from embeddings.services.index_versions import IndexBuildError, index_store
from embeddings.tests.fakes import file_features
from embeddings.tests.products import catalog_ids, make_product, make_products

pytestmark = pytest.mark.django_db


def _embed_all(backbone) -> None:
    embed_images_batch(image_ids=list(ProductImage.objects.values_list("id", flat=True)), backbone=backbone)


def test_build_one_item_per_active_product_with_primary_image(fake_backbone, settings):
    images = make_products(30)
    second_photo = make_product(images[0].product.external_id, position=1, image_bytes=None)
    images[1].product.is_active = False
    images[1].product.save()
    _embed_all(fake_backbone)
    record = index_build(backbone_version="fake-v1")
    assert record.is_current and record.items == 29 and record.dimension == 1280
    assert record.trees == settings.LOOKAWAY_ANNOY_TREES and record.build_seconds > 0
    store = IndexStore(settings.LOOKAWAY_INDEX_DIR)
    assert store.current_version() == record.version
    directory = store.version_dir(record.version)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert (
        manifest["items"] == 29
        and manifest["backbone_version"] == "fake-v1"
        and manifest["checksum"] == record.checksum
    )
    for name in ("index.ann", "ids.npy", "vectors.npy", "spatial.npy", "colours.npy"):
        assert (directory / name).exists()
    assert len(np.load(directory / "ids.npy")) == 29  # counted once per product, not per embedded image
    view = AnnoyCatalogView(directory)
    assert images[1].product_id not in view and images[0].product_id in view
    ids = np.asarray(view.ids).tolist()
    assert len(ids) == len(set(ids))
    # The primary image (position 0) is the one indexed, not the later photo of the same product.
    row = ids.index(images[0].product_id)
    first = file_features(fake_backbone, images[0].file.path).vector
    np.testing.assert_allclose(view.vectors[row], first, atol=1e-6)
    assert second_photo.position == 1


def test_nothing_to_index_is_a_clear_error(fake_backbone):
    with pytest.raises(IndexBuildError, match="embed_images"):
        index_build(backbone_version="fake-v1")
    assert not index_store().versions()  # no half-built directory left behind


def test_swap_rollback_and_prune(fake_backbone, settings):
    settings.LOOKAWAY_INDEX_KEEP_VERSIONS = 2
    make_products(12)
    _embed_all(fake_backbone)
    first = index_build(backbone_version="fake-v1")
    for external_id in catalog_ids(3, offset=12):
        make_product(external_id)
    _embed_all(fake_backbone)
    second = index_build(backbone_version="fake-v1")
    assert second.items == 15 and first.items == 12
    assert list(IndexVersion.objects.filter(is_current=True)) == [second]
    rolled = index_rollback()
    assert rolled.version == first.version and index_store().current_version() == first.version
    assert list(IndexVersion.objects.filter(is_current=True).values_list("version", flat=True)) == [first.version]
    index_rollback(to_version=second.version)
    assert index_store().current_version() == second.version
    third = index_build(backbone_version="fake-v1")
    assert index_store().versions() == [second.version, third.version]  # oldest pruned, previous kept
    assert not IndexVersion.objects.filter(version=first.version).exists()
    with pytest.raises(IndexBuildError, match="not on disk"):
        index_rollback(to_version=first.version)
