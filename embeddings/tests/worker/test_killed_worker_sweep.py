"""A SIGKILLed worker's batch is redone within minutes by the beat sweep, with the production visibility timeout.

Without the sweep the killed batch would stay unacknowledged in Redis for CELERY_VISIBILITY_TIMEOUT (3,600 s) and
this test times out (run it with LOOKAWAY_EMBED_SWEEP_SECONDS=0 to see that).
"""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings

from catalog.models import EmbeddingStatus, ProductImage
from embeddings.models import ImageEmbedding
from embeddings.services import coordination
from embeddings.tests.products import make_products
from embeddings.tests.worker.conftest import WorkerProcess, wait_for, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.celery_worker]

PHOTOS = 40
BATCH = 8
RECOVERY_LIMIT_SECONDS = 300


def unacked_task_ids(broker) -> set[str]:
    """Task ids of the messages Redis holds as delivered but unacknowledged (kombu's `unacked` hash)."""
    return {json.loads(raw)[0]["headers"]["id"] for raw in broker.hvals("unacked")}


@pytest.fixture
def beat_worker(django_db_setup, broker, worker_data_dir):
    """A worker with embedded beat (`worker -B`, as on a one-box install) and the production visibility timeout."""
    env = worker_env(worker_data_dir)
    schedule = worker_data_dir / "celerybeat-schedule"
    process = WorkerProcess(env, worker_data_dir / "worker.log", extra_args=("-B", "-s", str(schedule)))
    process.start()
    yield process
    process.stop()


def test_killed_workers_batch_is_embedded_within_minutes_without_duplicates(
    beat_worker, worker_settings, sender, broker, backbone
):
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == 3600  # the production value
    images = make_products(PHOTOS, offset=300)
    ids = [i.id for i in images]
    assert len(ids) == PHOTOS
    for start in range(0, PHOTOS, BATCH):
        sender.send_task("embeddings.tasks.embed_images_task", args=[ids[start : start + BATCH]], queue="embeddings")
    wait_for(lambda: broker.hlen(coordination.EMBED_CLAIMS_KEY) >= 1, timeout=180, worker=beat_worker, what="a claim")
    # The first batch runs for seconds (the pool child loads the model first); later ones take a fraction of a
    # second on a quiet machine, too short to aim at: kill during the first.
    time.sleep(1)
    claimed = {key.decode() for key in broker.hkeys(coordination.EMBED_CLAIMS_KEY)}
    beat_worker.kill()  # SIGKILL parent, pool child and beat while the batch runs
    killed_at = time.monotonic()
    assert ImageEmbedding.objects.count() < PHOTOS, "the worker finished everything before it could be killed"
    in_flight = claimed & unacked_task_ids(broker)
    assert in_flight, "no batch was in flight when the worker was killed"

    beat_worker.start()  # a new worker (new heartbeat token) with beat running the sweep on its schedule
    wait_for(
        lambda: not ProductImage.objects.filter(id__in=ids, embedding_status=EmbeddingStatus.PENDING).exists(),
        timeout=RECOVERY_LIMIT_SECONDS - (time.monotonic() - killed_at),
        worker=beat_worker,
        what="every photo embedded after the kill",
    )
    recovery_seconds = time.monotonic() - killed_at
    print(f"all {PHOTOS} photos embedded {recovery_seconds:.0f} s after the kill")

    assert set(ProductImage.objects.filter(id__in=ids).values_list("embedding_status", "embedded_with")) == {
        (EmbeddingStatus.DONE, backbone.version)
    }
    per_image = list(ImageEmbedding.objects.filter(image_id__in=ids).values_list("image_id", flat=True))
    assert sorted(per_image) == sorted(ids)  # one row per photo: nothing lost, nothing twice
    # The sweep did it: the killed messages are still waiting out their visibility timeout in Redis.
    assert in_flight <= unacked_task_ids(broker)
    assert "queued again" in beat_worker.log()
