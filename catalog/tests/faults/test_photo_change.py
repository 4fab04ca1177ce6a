"""A product whose photo changes loses the embeddings of the old photo in the same transaction."""

import shutil

import pytest

from catalog.models import EmbeddingStatus, ProductImage
from catalog.services import catalog_import
from embeddings.models import ImageEmbedding

pytestmark = pytest.mark.django_db


def _embedding(image: ProductImage, version: str) -> ImageEmbedding:
    return ImageEmbedding.objects.create(
        image=image,
        backbone_version=version,
        dimension=2,
        vector=b"\0" * 8,
        spatial=b"",
        spatial_shape=[1, 1, 0],
        colours=b"",
    )


def test_changed_photo_deletes_old_embeddings_of_every_backbone(sample_catalog, sample_rows, scheduled):
    catalog_import(csv_path=sample_catalog / "styles.csv")
    changed_id, kept_id, donor_id = (row[0] for row in sample_rows[1][:3])
    changed = ProductImage.objects.get(product__external_id=changed_id)
    kept = ProductImage.objects.get(product__external_id=kept_id)
    for image in (changed, kept):
        _embedding(image, "model-a")
        _embedding(image, "model-b")
    ProductImage.objects.filter(pk__in=[changed.pk, kept.pk]).update(embedding_status=EmbeddingStatus.DONE)
    shutil.copyfile(sample_catalog / "images" / f"{donor_id}.jpg", sample_catalog / "images" / f"{changed_id}.jpg")
    report = catalog_import(csv_path=sample_catalog / "styles.csv")
    assert report.updated == 1
    changed.refresh_from_db()
    assert changed.embedding_status == EmbeddingStatus.PENDING
    # Before the fix both rows stayed: the next index build served the old photo's vector for the new photo.
    assert not ImageEmbedding.objects.filter(image=changed).exists()
    assert ImageEmbedding.objects.filter(image=kept).count() == 2
