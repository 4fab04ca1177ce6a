"""Batches of dead workers: claims and heartbeats in the real Redis, the sweep queuing their pending images again."""

import json
import time
import uuid
from types import SimpleNamespace

import pytest

from catalog.models import EmbeddingStatus, ProductImage
from config.celery_app import claim_embedding_batch
from embeddings.models import ImageEmbedding
from embeddings.services import coordination
from embeddings.services.embedding_scheduling import embeddings_requeue_orphaned
from embeddings.tasks import embed_images_task, requeue_stale_embeddings_task
from embeddings.tests.products import make_products

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_redis(redis_client):
    """Claims go to the test Redis (tasks still run in-process); claim and heartbeat keys cleaned around the test."""
    client = redis_client

    def clean():
        client.delete(coordination.EMBED_CLAIMS_KEY, *client.keys(coordination.WORKER_ALIVE_KEY.format(token="*")))

    clean()
    yield client
    clean()


def claim_of_dead_worker(client, image_ids, *, age_seconds=120.0, force=False) -> str:
    """A claim as left by a SIGKILLed worker: its alive key is gone."""
    task_id = str(uuid.uuid4())
    claim = {"ids": image_ids, "force": force, "worker": "dead-host:1:0", "at": time.time() - age_seconds}
    client.hset(coordination.EMBED_CLAIMS_KEY, task_id, json.dumps(claim))
    return task_id


def statuses(images) -> list[str]:
    return [ProductImage.objects.get(id=i.id).embedding_status for i in images]


def test_dead_workers_batch_is_embedded_again_and_live_or_young_claims_are_left(with_redis, fake_backbone):
    images = make_products(7)
    dead, alive, young = images[:3], images[3:5], images[5:]
    dead_task = claim_of_dead_worker(with_redis, [i.id for i in dead])
    young_task = claim_of_dead_worker(with_redis, [i.id for i in young], age_seconds=5)
    alive_task = str(uuid.uuid4())
    coordination.embed_claim(task_id=alive_task, image_ids=[i.id for i in alive], force=False, ttl_seconds=60)

    assert embeddings_requeue_orphaned(stale_after_seconds=60) == 3

    assert statuses(dead) == [EmbeddingStatus.DONE] * 3  # queued again (run in-process here) and embedded
    assert statuses(alive + young) == [EmbeddingStatus.PENDING] * 4
    assert set(with_redis.hkeys(coordination.EMBED_CLAIMS_KEY)) == {alive_task.encode(), young_task.encode()}
    assert dead_task.encode() not in with_redis.hkeys(coordination.EMBED_CLAIMS_KEY)
    assert embeddings_requeue_orphaned(stale_after_seconds=60) == 0  # idempotent: the claim was taken once
    # The original message comes back after the visibility timeout: the redone batch skips, no second row.
    assert embed_images_task.apply(args=[[i.id for i in dead]]).result == {"done": 0, "skipped": 3, "failed": 0}
    per_image = list(ImageEmbedding.objects.values_list("image_id", flat=True))
    assert sorted(per_image) == sorted(i.id for i in dead)


def test_only_pending_images_are_queued_unless_the_batch_was_forced(with_redis, fake_backbone, monkeypatch):
    images = make_products(3)
    embed_images_task.apply(args=[[images[0].id]])  # finished before the worker died
    sent = []
    monkeypatch.setattr("embeddings.tasks.embed_images_task.delay", lambda ids, force: sent.append((ids, force)))
    claim_of_dead_worker(with_redis, [i.id for i in images])
    claim_of_dead_worker(with_redis, [images[0].id], force=True)

    assert embeddings_requeue_orphaned(stale_after_seconds=60, batch_size=1) == 3
    assert sorted(sent) == sorted([([images[1].id], False), ([images[2].id], False), ([images[0].id], True)])


def test_a_received_batch_is_claimed_until_its_task_ends(with_redis, fake_backbone, monkeypatch):
    images = make_products(2)
    ids = [i.id for i in images]
    ok_id, failing_id = str(uuid.uuid4()), str(uuid.uuid4())
    for task_id, args in ((ok_id, [ids]), (failing_id, [ids, True])):
        claim_embedding_batch(request=SimpleNamespace(name=embed_images_task.name, id=task_id, args=args, kwargs={}))
    claims = {k.decode(): json.loads(v) for k, v in with_redis.hgetall(coordination.EMBED_CLAIMS_KEY).items()}
    assert claims[ok_id]["ids"] == ids and claims[failing_id]["force"] is True
    assert with_redis.ttl(coordination.WORKER_ALIVE_KEY.format(token=claims[ok_id]["worker"])) > 0

    embed_images_task.apply(args=[ids], task_id=ok_id)

    def broken(**kwargs):
        raise ValueError("a programming error")

    monkeypatch.setattr("embeddings.tasks.embed_images_batch", broken)
    assert embed_images_task.apply(args=[ids], task_id=failing_id, throw=False).failed()
    assert with_redis.hlen(coordination.EMBED_CLAIMS_KEY) == 0
    claim_embedding_batch(request=SimpleNamespace(name="catalog.tasks.other", id="x", args=[[1]], kwargs={}))
    assert with_redis.hlen(coordination.EMBED_CLAIMS_KEY) == 0  # only embedding batches are claimed


def test_heartbeat_keeps_the_worker_alive_until_stopped(with_redis):
    key = coordination.WORKER_ALIVE_KEY.format(token=coordination.worker_token())
    heartbeat = coordination.WorkerHeartbeat(ttl_seconds=1)
    heartbeat.start()
    time.sleep(1.6)  # longer than the TTL: only renewals keep it
    assert with_redis.exists(key)
    heartbeat.stop()
    time.sleep(1.2)
    assert not with_redis.exists(key)


def test_sweep_task_without_redis_does_nothing(settings):
    settings.REDIS_URL = None
    assert requeue_stale_embeddings_task.apply().result == 0
