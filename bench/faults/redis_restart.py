"""Fault 2: restart Redis (broker + coordination keys) while a worker is embedding.

A throwaway Redis on 6391 is restarted (SHUTDOWN, 2 s down, start) after two batches. Variants: `no_persistence`
(`--save "" --appendonly no`: the queue dies with the server) and `aof` (`--appendonly yes`, what production should
run). Measured: whether the worker reconnects and goes on, how many photos are left pending when the queue is
quiet (lost), the one recovery command (`manage.py embed_images --async`, which queues the pending photos again)
and whether the index is rebuilt afterwards.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SCENARIO = "redis_restart"
DATABASE = "lookaway_faults_redis"
PORT = 6391
BROKER = f"redis://127.0.0.1:{PORT}/0"
QUIET_SECONDS = 30


def quiescent(count, *, quiet: float, timeout: float) -> int:
    """Wait until count() stops changing for `quiet` seconds (or reaches its end); return the last value."""
    deadline, last, since = time.monotonic() + timeout, count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(1)
        value = count()
        if value != last:
            last, since = value, time.monotonic()
        elif value == 0 or time.monotonic() - since >= quiet:
            return value
    return last


def run(variant: str) -> None:
    from django.db import connections

    from catalog.models import EmbeddingStatus, ProductImage
    from embeddings.models import ImageEmbedding, IndexVersion

    aof = variant == "aof"
    data_dir = common.BASE_DIR / f"redis-{variant}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    common.stop_fault_redis(PORT)
    shutil.rmtree(common.BASE_DIR / f"redis-{PORT}", ignore_errors=True)
    time.sleep(0.5)
    common.fault_redis(appendonly=aof, port=PORT)
    database = common.recreate_database(DATABASE, template=common.TEMPLATE_IMPORTED)
    connections.close_all()
    env = common.scenario_env(
        database=database,
        data_dir=data_dir,
        broker=BROKER,
        CELERY_VISIBILITY_TIMEOUT="30",
        LOOKAWAY_EMBED_BATCH_SIZE="16",
        LOOKAWAY_INDEX_REBUILD_DELAY="2",
    )
    worker = common.Worker(env, data_dir / "worker.log")
    worker.start()

    def pending() -> int:
        return ProductImage.objects.filter(embedding_status=EmbeddingStatus.PENDING).count()

    try:
        common.manage(env, "embed_images", "--async")
        total = ProductImage.objects.count()
        if not common.wait_until(lambda: ImageEmbedding.objects.count() >= 32, timeout=300):
            raise RuntimeError(f"no progress:\n{worker.log_since()[-2000:]}")
        at_restart = ImageEmbedding.objects.count()
        common.stop_fault_redis(PORT)
        time.sleep(2)
        common.start_fault_redis(appendonly=aof, port=PORT)
        timer = common.Timer()
        left = quiescent(pending, quiet=QUIET_SECONDS, timeout=600)
        by_itself = timer()
        alive = worker.proc is not None and worker.proc.poll() is None
        log = worker.log_since()
        recovery, recovered_seconds = "none needed", by_itself
        if left:
            recovery = "manage.py embed_images --async"
            common.manage(env, recovery.split()[1], "--async")
            common.wait_until(lambda: pending() == 0, timeout=600)
            recovered_seconds = timer()
        indexed = common.wait_until(
            lambda: IndexVersion.objects.filter(is_current=True, items=total).exists(), timeout=90
        )
        common.emit(
            scenario=SCENARIO,
            variant=variant,
            images=total,
            embedded_at_restart=at_restart,
            worker_alive=alive,
            worker_reconnected="Connected to redis" in log.split("ready.", 1)[-1] or "reconnect" in log.lower(),
            pending_when_quiet=left,
            what_happened=(
                f"{left} photo(s) stayed pending: their queued batches died with Redis"
                if left
                else "the worker reconnected and finished every queued batch"
            ),
            lost=pending(),
            recovery=recovery,
            seconds_to_recover=recovered_seconds,
            index_rebuilt_with_all=indexed,
            worker_errors=sum(1 for line in log.splitlines() if " ERROR/" in line),
        )
    finally:
        worker.stop()
        connections.close_all()


def main() -> None:
    common.ensure_templates()
    env = common.scenario_env(database=common.database_url(DATABASE), data_dir=common.BASE_DIR / "redis")
    common.setup_django(env)
    try:
        for variant in os.environ.get("FAULTS_REDIS_VARIANTS", "no_persistence,aof").split(","):
            run(variant.strip())
    finally:
        common.stop_fault_redis(PORT)
        if not os.environ.get("FAULTS_KEEP"):
            common.drop_database(DATABASE)


if __name__ == "__main__":
    main()
