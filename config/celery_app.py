"""The Celery app: settings under the CELERY_ namespace, tasks discovered in every installed app."""

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

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
