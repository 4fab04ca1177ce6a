"""Embedding batches with the fake embedder: idempotence, bad images failing alone, backbone changes."""

import os

import pytest

from catalog.models import EmbeddingStatus, ProductImage
from embeddings.engine.cell_shapes import SHAPE_CHANNELS
from embeddings.models import ImageEmbedding
from embeddings.services import embed_images_batch, embedding_mark_stale, images_pending, schedule_embedding
from embeddings.services.storage import spatial_from_bytes, vector_from_bytes
from embeddings.tests.fakes import FakeBackbone
from embeddings.tests.products import make_product, make_products

pytestmark = pytest.mark.django_db


def test_batch_embeds_stores_arrays_and_is_idempotent(fake_backbone):
    images = make_products(5)
    result = embed_images_batch(image_ids=[i.id for i in images])
    assert sorted(result.done) == sorted(i.id for i in images) and not result.failed
    row = ImageEmbedding.objects.get(image=images[0])
    assert row.backbone_version == "fake-v1" and row.dimension == 1280
    assert vector_from_bytes(row.vector).shape == (1280,)
    assert spatial_from_bytes(row.spatial, row.spatial_shape).shape == (7, 7, SHAPE_CHANNELS)
    image = ProductImage.objects.get(id=images[0].id)
    assert image.embedding_status == EmbeddingStatus.DONE and image.embedded_with == "fake-v1" and image.embedded_at
    again = embed_images_batch(image_ids=[i.id for i in images])
    assert again.done == [] and sorted(again.skipped) == sorted(i.id for i in images)
    forced = embed_images_batch(image_ids=[images[0].id], force=True)
    assert forced.done == [images[0].id]
    assert ImageEmbedding.objects.count() == 5  # upsert: still one per (image, version)


def test_corrupt_and_missing_images_fail_alone_with_reason(fake_backbone):
    good = make_products(3)
    corrupt = make_product("corrupt-1", image_bytes=b"\xff\xd8 definitely not a jpeg")
    missing = make_product("missing-1", image_bytes=b"x")
    os.remove(missing.file.path)
    result = embed_images_batch(image_ids=[g.id for g in good] + [corrupt.id, missing.id])
    assert sorted(result.done) == sorted(g.id for g in good)
    assert set(result.failed) == {corrupt.id, missing.id}
    corrupt.refresh_from_db()
    assert corrupt.embedding_status == EmbeddingStatus.FAILED and "cannot identify image" in corrupt.embedding_error
    missing.refresh_from_db()
    assert missing.embedding_status == EmbeddingStatus.FAILED and missing.embedding_error
    assert ImageEmbedding.objects.count() == 3


def test_unknown_ids_are_ignored(fake_backbone):
    result = embed_images_batch(image_ids=[987654])
    assert result.done == [] and result.failed == {}


def test_backbone_change_marks_everything_for_reembedding(fake_backbone, monkeypatch):
    images = make_products(4)
    embed_images_batch(image_ids=[i.id for i in images])
    assert images_pending(backbone_version="fake-v1").count() == 0
    assert images_pending(backbone_version="fake-v2").count() == 4  # detected without any write
    assert embedding_mark_stale(backbone_version="fake-v2") == 4
    assert ProductImage.objects.filter(embedding_status=EmbeddingStatus.PENDING).count() == 4
    v2 = FakeBackbone("fake-v2")
    monkeypatch.setattr("embeddings.services.embedding.load_backbone", lambda: v2)
    embed_images_batch(image_ids=[i.id for i in images])
    assert ImageEmbedding.objects.filter(backbone_version="fake-v2").count() == 4
    assert ImageEmbedding.objects.filter(backbone_version="fake-v1").count() == 4  # old ones kept for rollback
    assert set(ProductImage.objects.values_list("embedded_with", flat=True)) == {"fake-v2"}


def test_schedule_embedding_chunks_and_runs_on_commit(fake_backbone, settings, django_capture_on_commit_callbacks):
    images = make_products(7)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batches = schedule_embedding(image_ids=[i.id for i in images], batch_size=3)
    assert batches == 3 and len(callbacks) == 3
    assert ImageEmbedding.objects.count() == 0  # nothing runs before the commit
    for callback in callbacks:
        callback()  # eager Celery: runs the task in-process
    assert ImageEmbedding.objects.count() == 7


def test_schedule_embedding_never_fails_the_caller(fake_backbone, monkeypatch, django_capture_on_commit_callbacks):
    images = make_products(2)

    def broken(*args, **kwargs):
        raise OSError("broker down")

    monkeypatch.setattr("embeddings.tasks.embed_images_task.delay", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_embedding(image_ids=[i.id for i in images]) == 1
    assert ProductImage.objects.filter(embedding_status=EmbeddingStatus.PENDING).count() == 2
