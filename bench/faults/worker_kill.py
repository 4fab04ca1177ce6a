"""Fault 1: kill -9 a Celery worker in the middle of an embedding batch.

A worker embeds PRODUCTS pending photos (batches of 16) from the throwaway Redis on 6390; after two batches it is
SIGKILLed (parent and pool child) and started again at once. Measured: when the killed batch is handed out again
(its delivery tag leaves kombu's `unacked_index`), how long until every photo is embedded, and whether anything is
lost or embedded twice. Variants (FAULTS_WORKER_VARIANTS, comma-separated):

- `project`: the project's transport options (scan every 10 s, mutex 60 s);
- `kombu_defaults`: kombu's (scan every 10th 10-s tick, mutex 300 s), as the project ran before;
- `stale_mutex`: project options, plus the restore mutex left behind as by a worker killed while scanning.

The visibility timeout is 30 s here (production: CELERY_VISIBILITY_TIMEOUT, 3600 s): redelivery happens that long
after the batch was handed out, plus the lag measured here.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SCENARIO = "worker_kill"
DATABASE = "lookaway_faults_worker"
VISIBILITY = 30
VARIANTS = {
    "project": {},
    "kombu_defaults": {
        "CELERY_UNACKED_RESTORE_INTERVAL": "10",
        "CELERY_UNACKED_RESTORE_THROTTLE": "10",
        "CELERY_UNACKED_MUTEX_EXPIRE": "300",
    },
    "stale_mutex": {},
}


def run(variant: str) -> None:
    data_dir = common.BASE_DIR / f"worker-{variant}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    broker = common.fault_redis()
    database = common.recreate_database(DATABASE, template=common.TEMPLATE_IMPORTED)
    env = common.scenario_env(
        database=database,
        data_dir=data_dir,
        broker=common.FAULT_REDIS_URL,
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY),
        LOOKAWAY_EMBED_BATCH_SIZE="16",
        LOOKAWAY_INDEX_REBUILD_DELAY="2",
        **VARIANTS[variant],
    )
    from django.db import connections

    from catalog.models import EmbeddingStatus, ProductImage
    from embeddings.models import ImageEmbedding

    connections.close_all()
    worker = common.Worker(env, data_dir / "worker.log")
    worker.start()
    try:
        common.manage(env, "embed_images", "--async")
        total = ProductImage.objects.count()
        if not common.wait_until(lambda: ImageEmbedding.objects.count() >= 32, timeout=300):
            raise RuntimeError(f"no progress:\n{worker.log_since()[-2000:]}")
        worker.kill()
        killed_at = time.time()
        done_at_kill = ImageEmbedding.objects.count()
        in_flight = {tag: score for tag, score in broker.zrange("unacked_index", 0, -1, withscores=True)}
        if variant == "stale_mutex":
            expire = int(env.get("CELERY_UNACKED_MUTEX_EXPIRE", "60"))
            broker.set("unacked_mutex", "dead-worker-token", ex=expire)
        timer = common.Timer()
        worker.start()
        restarted = timer()
        restored = common.wait_until(
            lambda: not any(broker.zscore("unacked_index", tag) for tag in in_flight), timeout=600, step=0.2
        )
        restored_at = time.time()
        all_done = common.wait_until(
            lambda: not ProductImage.objects.filter(embedding_status=EmbeddingStatus.PENDING).exists(), timeout=600
        )
        recovered = timer()
        rows = ImageEmbedding.objects.count()
        distinct = ImageEmbedding.objects.values("image_id").distinct().count()
        pending = ProductImage.objects.filter(embedding_status=EmbeddingStatus.PENDING).count()
        delivered_at = min(in_flight.values()) if in_flight else killed_at
        common.emit(
            scenario=SCENARIO,
            variant=variant,
            images=total,
            embedded_at_kill=done_at_kill,
            unacked_at_kill=len(in_flight),
            what_happened="worker SIGKILLed mid-batch; its batch stayed unacknowledged in Redis",
            redelivered=restored,
            seconds_kill_to_redelivery=round(restored_at - killed_at, 1),
            seconds_past_visibility_timeout=round(restored_at - delivered_at - VISIBILITY, 1),
            visibility_timeout=VISIBILITY,
            worker_restart_seconds=restarted,
            all_embedded=all_done,
            lost=pending,
            duplicates=rows - distinct,
            recovery="by itself (acks_late: redelivered after the visibility timeout); just restart the worker",
            seconds_to_recover=recovered,
        )
    finally:
        worker.stop()
        connections.close_all()


def main() -> None:
    common.ensure_templates()
    env = common.scenario_env(database=common.database_url(DATABASE), data_dir=common.BASE_DIR / "worker")
    common.setup_django(env)
    variants = os.environ.get("FAULTS_WORKER_VARIANTS", "project,kombu_defaults,stale_mutex").split(",")
    try:
        for variant in variants:
            run(variant.strip())
    finally:
        common.stop_fault_redis()
        if not os.environ.get("FAULTS_KEEP"):
            common.drop_database(DATABASE)


if __name__ == "__main__":
    main()
