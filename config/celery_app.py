"""The Celery app: settings under the CELERY_ namespace, tasks discovered in every installed app."""

import logging
import os

from celery import Celery
from celery.signals import task_received, worker_ready, worker_shutdown

from config.tensorflow_logs import quiet_tensorflow_logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
quiet_tensorflow_logs()

app = Celery("lookaway")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_ready.connect
def recover_stuck_import_jobs(**kwargs) -> None:
    """A worker that starts (e.g. after one was killed) queues import jobs left running by dead workers again."""
    from django.db import connections

    from catalog.services.jobs import import_jobs_recover

    try:
        result = import_jobs_recover()
    except Exception:  # noqa: BLE001 - never keep a worker from starting; `manage.py import_jobs --recover` does it
        logger.warning("could not check for stuck import jobs", exc_info=True)
        return
    finally:
        connections.close_all()  # the main process forks pool children later: leave them no open connection
    if result.requeued:
        logger.warning("import jobs left behind by dead workers queued again: %s", result.requeued)


EMBED_TASK = "embeddings.tasks.embed_images_task"
_heartbeat = None


@worker_ready.connect
def start_worker_heartbeat(**kwargs) -> None:
    """Renew this worker's alive key while it runs: the sweep redoes a dead worker's embedding batches."""
    global _heartbeat
    from django.conf import settings

    from embeddings.services.coordination import WorkerHeartbeat

    try:
        _heartbeat = WorkerHeartbeat(ttl_seconds=settings.LOOKAWAY_EMBED_STALE_SECONDS)
        _heartbeat.start()
    except Exception:  # noqa: BLE001 - without Redis there is nothing to sweep; never keep a worker from starting
        logger.warning("could not start the worker heartbeat", exc_info=True)


@task_received.connect
def claim_embedding_batch(request=None, **kwargs) -> None:
    """In the worker's main process, on receipt (before it runs): record that this worker holds the batch."""
    if request is None or request.name != EMBED_TASK:
        return
    from django.conf import settings

    from embeddings.services.coordination import embed_claim

    args, named = list(request.args or []), dict(request.kwargs or {})
    try:
        embed_claim(
            task_id=request.id,
            image_ids=args[0] if args else named.get("image_ids", []),
            force=bool(args[1] if len(args) > 1 else named.get("force", False)),
            ttl_seconds=settings.LOOKAWAY_EMBED_STALE_SECONDS,
        )
    except Exception:  # noqa: BLE001 - unclaimed, the batch still comes back after the visibility timeout
        logger.warning("could not record embedding batch %s", request.id, exc_info=True)


@worker_shutdown.connect
def stop_worker_heartbeat(**kwargs) -> None:
    """A clean stop: end the heartbeat and drop the alive key; the next sweep redoes batches left unfinished."""
    from embeddings.services.coordination import worker_gone

    if _heartbeat is not None:
        _heartbeat.stop()
        try:
            worker_gone()
        except Exception:  # noqa: BLE001 - the key expires by itself
            logger.warning("could not remove the worker heartbeat", exc_info=True)
