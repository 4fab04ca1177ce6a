"""Celery tasks of the catalog: thin wrappers around catalog.services."""

from celery import shared_task

from catalog.services.jobs import TRANSIENT_DB_ERRORS, import_job_run


@shared_task(
    name="catalog.tasks.import_catalog_task",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_DB_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
)
def import_catalog_task(job_id: int) -> None:
    """Run (or resume) the admin import job `job_id`; returns at once if it is finished or running elsewhere."""
    import_job_run(job_id=job_id)
