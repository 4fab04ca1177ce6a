"""Celery tasks of the catalog: thin wrappers around catalog.services."""

from celery import shared_task

from catalog.services.jobs import import_job_run


@shared_task(name="catalog.tasks.import_catalog_task", ignore_result=True)
def import_catalog_task(job_id: int) -> None:
    """Run the admin import job `job_id` (returns at once if it is not queued any more)."""
    import_job_run(job_id=job_id)
