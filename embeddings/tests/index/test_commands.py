"""The operator commands end to end with the fake embedder: embed, build, status, rollback."""

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.models import EmbeddingStatus, ProductImage
from embeddings.models import ImageEmbedding, IndexVersion
from embeddings.tests.products import make_product, make_products

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_embed_build_status_rollback(fake_backbone):
    make_products(6)
    make_product("broken", image_bytes=b"not an image")
    out = _run("embed_images")
    assert "Embedded 6, skipped 0, failed 1." in out and "cannot identify image" in out
    assert ProductImage.objects.get(product__external_id="broken").embedding_status == EmbeddingStatus.FAILED
    assert "Nothing to embed." in _run("embed_images")  # failed ones are not retried by default
    assert "failed 1" in _run("embed_images", "--failed")
    out = _run("build_index", "--trees", "5")
    first = IndexVersion.objects.get(is_current=True)
    assert first.items == 6 and first.trees == 5 and first.version in out
    out = _run("embed_images", "--product", "broken", "nope-404")
    assert "unknown product (or no image): nope-404" in out
    _run("build_index")
    status = _run("index_status")
    assert first.version in status and "fake-v1" in status and "done" in status
    out = _run("rollback_index")
    assert first.version in out and IndexVersion.objects.get(is_current=True) == first
    with pytest.raises(CommandError, match="not on disk"):
        _run("rollback_index", "--to", "20990101T000000Z-ffffff")


def test_embed_all_reembeds_and_model_change_is_detected(fake_backbone, monkeypatch):
    make_products(3)
    _run("embed_images")
    assert "skipped 0" in _run("embed_images", "--all")
    assert ImageEmbedding.objects.count() == 3
    fake_backbone.version = "fake-v2"
    out = _run("embed_images")
    assert "3 image(s) were embedded by another backbone" in out and "Embedded 3" in out
    assert ImageEmbedding.objects.filter(backbone_version="fake-v2").count() == 3


def test_build_index_without_embeddings_and_bad_arguments(fake_backbone):
    with pytest.raises(CommandError, match="no embeddings"):
        _run("build_index")
    with pytest.raises(CommandError, match="at least 1"):
        _run("build_index", "--trees", "0")
    with pytest.raises(CommandError, match="at least 1"):
        _run("embed_images", "--batch-size", "0")


def test_embed_async_enqueues_batches_on_commit(fake_backbone, django_capture_on_commit_callbacks):
    make_products(5)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out = _run("embed_images", "--async", "--batch-size", "2")
    assert "Queued 5 image(s) in 3 task(s)." in out and len(callbacks) == 3
    assert ImageEmbedding.objects.count() == 5  # eager Celery in tests: the tasks ran in-process
