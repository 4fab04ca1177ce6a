"""Admin import jobs: create one from uploaded files, run it (in a Celery task) with progress and a stored report.

A running job holds a PostgreSQL advisory lock on its database connection for as long as it runs. The lock goes away
by itself when the process dies or the database restarts, so "status running and nobody holds the lock" means the
job's worker died: such a job is *stale*. A stale job is resumed (re-run from the start; the import is idempotent, so
rows committed before the crash come out `unchanged`) by the redelivered task, by the task's own retry after a
database outage, by a worker starting up (config.celery_app) or by `manage.py import_jobs --recover`.
"""

import logging
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from catalog.models import ImportJob
from catalog.services.csv_rows import CatalogFileError
from catalog.services.importing import catalog_import
from catalog.services.report import ImportReport, Problem
from catalog.services.zips import ZipRefused, folder_remove, zip_extract, zip_images_root

logger = logging.getLogger(__name__)

# Database errors worth retrying: the connection broke (restart, failover, network). The job stays resumable.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
# Advisory lock namespace of import jobs (pg_try_advisory_lock(ns, job id)); "LK" in ASCII.
LOCK_NAMESPACE = 0x4C4B
# Without advisory locks (SQLite: the single-process demo) a running job counts as stale after this long.
STALE_AFTER_WITHOUT_LOCKS = timedelta(hours=6)
# A queued job whose task message is this old was lost (e.g. Redis restarted without persistence): queue it again.
QUEUED_LOST_AFTER = timedelta(minutes=10)
FINAL = (ImportJob.Status.DONE, ImportJob.Status.FAILED)
RESUMED_NOTE = "resumed after its worker died: rows stored before the crash count as unchanged"


def import_job_create(
    *, csv_file: UploadedFile, images_zip: UploadedFile | None, created_by=None, deactivate_missing: bool = False
) -> ImportJob:
    """Store the uploads in an ImportJob and queue import_catalog_task once the row is committed."""
    job = ImportJob.objects.create(
        csv_file=csv_file,
        images_zip=images_zip or "",
        created_by=created_by,
        deactivate_missing=deactivate_missing,
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from catalog.tasks import import_catalog_task

    import_catalog_task.delay(job_id)


def _has_advisory_locks() -> bool:
    return connection.vendor == "postgresql"


def _lock_free(job_id: int) -> bool:
    """Whether no session holds the job's lock (checked with a try-lock released at once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job_id])
        (acquired,) = cursor.fetchone()
        if acquired:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, job_id])
    return bool(acquired)


@contextmanager
def _job_lock(job_id: int):
    """Hold the job's session advisory lock while the body runs; yields False if another session holds it."""
    if not _has_advisory_locks():
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job_id])
        (acquired,) = cursor.fetchone()
    try:
        yield bool(acquired)
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, job_id])
            except DatabaseError:
                connection.close()  # the session (and its lock) is gone anyway


def import_job_is_stale(job: ImportJob) -> bool:
    """A job marked running whose worker is gone (no lock holder; without locks: started long ago)."""
    if job.status != ImportJob.Status.RUNNING:
        return False
    if _has_advisory_locks():
        return _lock_free(job.pk)
    return job.started_at is None or timezone.now() - job.started_at > STALE_AFTER_WITHOUT_LOCKS


def _copy_out(field: FieldFile, target: Path) -> Path:
    """Copy a stored upload to a local file (the storage may be remote)."""
    with field.open("rb") as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    return target


def _workdir(job_id: int) -> Path:
    """The job's scratch folder, the same on every run, so a resumed job starts from a clean one."""
    return Path(tempfile.gettempdir()) / f"lookaway-import-{job_id}"


def import_job_remove_uploads(job: ImportJob) -> int:
    """Delete the job's uploaded CSV and zip from storage (the report keeps what happened); return files removed."""
    removed = 0
    for field in (job.csv_file, job.images_zip):
        if field and field.name and field.storage.exists(field.name):
            field.storage.delete(field.name)
            removed += 1
    return removed


def _finish(job: ImportJob, *, status: str, report: ImportReport, error: str = "") -> None:
    job.status, job.report, job.error, job.finished_at = status, report.to_dict(), error, timezone.now()
    job.processed_rows = report.processed
    job.total_rows = max(job.total_rows, report.total_rows)
    job.save(update_fields=["status", "report", "error", "finished_at", "processed_rows", "total_rows"])
    try:
        import_job_remove_uploads(job)
    except OSError:
        logger.warning("could not delete the uploads of import job %s", job.pk, exc_info=True)


def _claim(job_id: int) -> tuple[ImportJob | None, bool]:
    """Mark the job running if it is queued or stale; (job, resumed) or (None, False) if there is nothing to do."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status in FINAL:
        return None, False
    resumed = job.status == ImportJob.Status.RUNNING
    if resumed and not _has_advisory_locks() and not import_job_is_stale(job):
        return None, False  # without locks we cannot tell a live run from a dead one: leave it to its owner
    claimed = ImportJob.objects.filter(pk=job_id, status=job.status).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), finished_at=None
    )
    return (ImportJob.objects.get(pk=job_id), resumed) if claimed else (None, False)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued (or resume a stale) job: extract the zip into the job's scratch folder and import.

    Returns None when there is nothing to do (unknown, finished, or running in another live process). A database
    outage is re-raised (the task retries it) and leaves the job resumable; any other error ends the job `failed`.
    """
    with _job_lock(job_id) as owned:
        if not owned:
            logger.info("import job %s is running in another process: nothing to do", job_id)
            return None
        job, resumed = _claim(job_id)
        if job is None:
            logger.info("import job %s is not queued (unknown or already run): nothing to do", job_id)
            return None
        _run_claimed(job, resumed=resumed)
        return job


def _run_claimed(job: ImportJob, *, resumed: bool) -> None:
    workdir = _workdir(job.pk)
    folder_remove(folder=workdir)
    workdir.mkdir(parents=True)
    report = ImportReport()
    if resumed:
        logger.warning("import job %s was left running by a worker that died: resuming it from the start", job.pk)
        report.add(Problem(None, "job", RESUMED_NOTE, level="warning"))

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=done, total_rows=total)

    try:
        csv_path = _copy_out(job.csv_file, workdir / "catalog.csv")
        images_root = workdir / "photos"
        images_root.mkdir()
        if job.images_zip:
            zip_extract(
                zip_path=_copy_out(job.images_zip, workdir / "photos.zip"), destination=images_root, report=report
            )
            images_root = zip_images_root(folder=images_root)
        catalog_import(
            csv_path=csv_path,
            images_root=images_root,
            deactivate_missing=job.deactivate_missing,
            on_progress=progress,
            report=report,
        )
    except TRANSIENT_DB_ERRORS:
        logger.warning("import job %s interrupted by a database error: it will be resumed", job.pk, exc_info=True)
        raise
    except (CatalogFileError, ZipRefused) as exc:
        _finish(job, status=ImportJob.Status.FAILED, report=report, error=f"nothing imported: {exc}")
    except Exception as exc:  # the job must end in a final state the admin can see
        logger.exception("import job %s crashed", job.pk)
        _finish(job, status=ImportJob.Status.FAILED, report=report, error=f"unexpected error: {exc!r}")
    else:
        _finish(job, status=ImportJob.Status.DONE, report=report)
    finally:
        folder_remove(folder=workdir)


@dataclass
class RecoveryResult:
    """What import_jobs_recover did: jobs queued again (stale running or lost queued), or marked failed."""

    requeued: list[int]
    failed: list[int]


def import_jobs_stuck() -> tuple[list[ImportJob], list[ImportJob]]:
    """(stale running jobs, queued jobs whose task message looks lost)."""
    running = [job for job in ImportJob.objects.filter(status=ImportJob.Status.RUNNING) if import_job_is_stale(job)]
    lost = list(
        ImportJob.objects.filter(status=ImportJob.Status.QUEUED, created_at__lt=timezone.now() - QUEUED_LOST_AFTER)
    )
    return running, lost


def import_jobs_recover(*, mark_failed: bool = False) -> RecoveryResult:
    """Queue stale and lost jobs again (resumed idempotently), or with `mark_failed` end them as failed."""
    running, lost = import_jobs_stuck()
    result = RecoveryResult(requeued=[], failed=[])
    for job in running + lost:
        if mark_failed:
            done = ImportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ImportJob.Status.FAILED,
                error="its worker died: marked failed by import_jobs --mark-failed; start a new import",
                finished_at=timezone.now(),
            )
            if done:
                job.refresh_from_db()
                import_job_remove_uploads(job)
                result.failed.append(job.pk)
        else:
            _enqueue(job.pk)
            result.requeued.append(job.pk)
    return result


def import_jobs_purge_uploads() -> int:
    """Delete the uploads (and scratch folders) of finished jobs; return the number of files removed."""
    removed = 0
    for job in ImportJob.objects.filter(status__in=FINAL):
        removed += import_job_remove_uploads(job)
        folder_remove(folder=_workdir(job.pk))
    return removed
