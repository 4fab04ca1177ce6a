"""The embedding pipeline through a real Celery worker process, Redis and PostgreSQL, with the real backbone."""

from __future__ import annotations

import time

import pytest

from catalog.models import EmbeddingStatus, ProductImage
from embeddings.models import ImageEmbedding, IndexVersion
from embeddings.selectors import nearest_products
from embeddings.services import coordination
from embeddings.serving.catalog_reloader import reset_catalog_view
from embeddings.tests.products import make_product, make_products
from embeddings.tests.worker.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.celery_worker]


def send_batches(sender, ids: list[int], size: int) -> None:
    for start in range(0, len(ids), size):
        sender.send_task("embeddings.tasks.embed_images_task", args=[ids[start : start + size]], queue="embeddings")


def not_pending() -> int:
    return ProductImage.objects.exclude(embedding_status=EmbeddingStatus.PENDING).count()


def test_new_images_embedded_and_indexed_end_to_end(worker, worker_settings, sender, backbone):
    images = make_products(12)
    corrupt = make_product("corrupt-photo", image_bytes=b"\xff\xd8\xff\xe0 truncated jpeg")
    ids = [i.id for i in images] + [corrupt.id]
    send_batches(sender, ids, 5)  # three batches finishing close together, the corrupt photo in the last
    wait_for(lambda: not_pending() == len(ids), timeout=120, worker=worker, what="all images processed")
    wait_for(
        lambda: IndexVersion.objects.filter(is_current=True, items=12).exists(),
        timeout=60,
        worker=worker,
        what="the coalesced index rebuild",
    )
    corrupt.refresh_from_db()
    assert corrupt.embedding_status == EmbeddingStatus.FAILED and corrupt.embedding_error
    assert ImageEmbedding.objects.filter(backbone_version=backbone.version).count() == 12
    assert IndexVersion.objects.count() < 3  # three batches, coalesced into fewer rebuilds
    reset_catalog_view()
    neighbours = nearest_products(product_id=images[0].product_id, k=5)
    assert len(neighbours) == 5 and images[0].product_id not in [pid for pid, _ in neighbours]


def test_killed_worker_loses_nothing_and_embeds_each_image_once(worker, worker_settings, sender, broker, backbone):
    images = make_products(12, offset=100)
    ids = [i.id for i in images]
    broker.delete(coordination.EMBED_CLAIMS_KEY)
    send_batches(sender, ids, 6)
    # The module's worker is warm: a batch of 6 takes a few hundred ms, too short to aim at by counting finished
    # rows. Kill the moment the first batch claims its images (the claim is written as the task starts).
    wait_for(
        lambda: broker.hlen(coordination.EMBED_CLAIMS_KEY) >= 1,
        timeout=120,
        worker=worker,
        what="a claimed batch",
        poll_seconds=0.005,
    )
    worker.kill()  # SIGKILL parent and pool child while the batch runs
    done_at_kill = ImageEmbedding.objects.count()
    assert done_at_kill < len(ids), "the worker finished everything before it could be killed"
    assert broker.hlen("unacked") >= 1  # a batch was in flight, unacknowledged
    killed_at = time.monotonic()
    worker.start()
    wait_for(lambda: not_pending() == len(ids), timeout=150, worker=worker, what="redelivered batches")
    recovery_seconds = time.monotonic() - killed_at
    assert ImageEmbedding.objects.count() == len(ids)
    per_image = ImageEmbedding.objects.values_list("image_id", flat=True)
    assert sorted(per_image) == sorted(ids)  # exactly once each
    assert set(ProductImage.objects.values_list("embedding_status", "embedded_with")) == {
        (EmbeddingStatus.DONE, backbone.version)
    }
    assert recovery_seconds < 120, recovery_seconds
