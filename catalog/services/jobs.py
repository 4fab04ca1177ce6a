"""Admin import jobs: create one from uploaded files, run it (in a Celery task) with progress and a stored report."""

import logging
import shutil
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from catalog.models import ImportJob
from catalog.services.csv_rows import CatalogFileError
from catalog.services.importing import catalog_import
from catalog.services.report import ImportReport
from catalog.services.zips import ZipRefused, folder_remove, zip_extract, zip_images_root

logger = logging.getLogger(__name__)


def import_job_create(
    *, csv_file: UploadedFile, images_zip: UploadedFile | None, created_by=None, deactivate_missing: bool = False
) -> ImportJob:
    """Store the uploads in an ImportJob and queue import_catalog_task once the row is committed."""
    from catalog.tasks import import_catalog_task

    job = ImportJob.objects.create(
        csv_file=csv_file,
        images_zip=images_zip or "",
        created_by=created_by,
        deactivate_missing=deactivate_missing,
    )
    transaction.on_commit(lambda: import_catalog_task.delay(job.pk))
    return job


def _copy_out(field: FieldFile, target: Path) -> Path:
    """Copy a stored upload to a local file (the storage may be remote)."""
    with field.open("rb") as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    return target


def _finish(job: ImportJob, *, status: str, report: ImportReport, error: str = "") -> None:
    job.status, job.report, job.error, job.finished_at = status, report.to_dict(), error, timezone.now()
    job.processed_rows = report.processed
    job.total_rows = max(job.total_rows, report.total_rows)
    job.save(update_fields=["status", "report", "error", "finished_at", "processed_rows", "total_rows"])


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job: extract the zip into a per-job temp folder and import; None if it was not queued."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.info("import job %s is not queued (unknown or already run): nothing to do", job_id)
        return None
    job = ImportJob.objects.get(pk=job_id)
    workdir = Path(tempfile.mkdtemp(prefix=f"lookaway-import-{job.pk}-"))
    report = ImportReport()

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
    except (CatalogFileError, ZipRefused) as exc:
        _finish(job, status=ImportJob.Status.FAILED, report=report, error=f"nothing imported: {exc}")
    except Exception as exc:  # the job must end in a final state the admin can see
        logger.exception("import job %s crashed", job.pk)
        _finish(job, status=ImportJob.Status.FAILED, report=report, error=f"unexpected error: {exc!r}")
    else:
        _finish(job, status=ImportJob.Status.DONE, report=report)
    finally:
        folder_remove(folder=workdir)
    return job
