"""Import jobs survive their worker dying and database outages: a stale job is detected (nobody holds its advisory
lock), resumed idempotently or marked failed; uploads are deleted once a job is finished."""

import io
import zipfile
from datetime import timedelta

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.utils import timezone

from catalog.models import ImportJob, Product
from catalog.services import jobs
from catalog.services.jobs import import_job_is_stale, import_job_run
from catalog.tasks import import_catalog_task

pytestmark = pytest.mark.django_db
ROWS = 12


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("stale-job detection uses PostgreSQL advisory locks (set DATABASE_URL)")


def _job(sample_catalog, *, status=ImportJob.Status.QUEUED, **fields) -> ImportJob:
    lines = (sample_catalog / "styles.csv").read_text().splitlines()[: ROWS + 1]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for line in lines[1:]:
            external_id = line.split(",")[0]
            archive.write(sample_catalog / "images" / f"{external_id}.jpg", f"images/{external_id}.jpg")
    job = ImportJob.objects.create(
        csv_file=SimpleUploadedFile("styles.csv", ("\n".join(lines) + "\n").encode()),
        images_zip=SimpleUploadedFile("photos.zip", buffer.getvalue()),
    )
    ImportJob.objects.filter(pk=job.pk).update(status=status, **fields)
    job.refresh_from_db()
    return job


def _uploads_exist(job: ImportJob) -> list[bool]:
    return [job.csv_file.storage.exists(job.csv_file.name), job.images_zip.storage.exists(job.images_zip.name)]


@pytest.fixture
def other_session():
    """A second database session (another worker) that can hold a job's advisory lock."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=connection.settings_dict["NAME"],
        user=db["USER"],
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        password=db.get("PASSWORD") or None,
    )
    conn.autocommit = True
    yield conn
    conn.close()


def test_job_left_running_by_a_dead_worker_is_resumed(sample_catalog, scheduled):
    # Before the fix: the redelivered task saw "running", returned at once, and the job stayed running forever.
    job = _job(sample_catalog, status=ImportJob.Status.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    Product.objects.create(external_id=(sample_catalog / "styles.csv").read_text().splitlines()[1].split(",")[0])
    assert import_job_is_stale(job)
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Product.objects.count() == ROWS
    assert job.report["created"] + job.report["updated"] == ROWS and job.report["failed"] == 0
    assert any("resumed after its worker died" in p["reason"] for p in job.report["problems"])
    assert _uploads_exist(job) == [False, False]  # before the fix: uploads were never deleted


def test_job_whose_worker_is_alive_is_left_alone(sample_catalog, other_session):
    job = _job(sample_catalog, status=ImportJob.Status.RUNNING, started_at=timezone.now())
    with other_session.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [jobs.LOCK_NAMESPACE, job.pk])
    assert not import_job_is_stale(job)
    assert import_job_run(job_id=job.pk) is None
    assert jobs.import_jobs_recover().requeued == []
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and Product.objects.count() == 0
    assert _uploads_exist(job) == [True, True]


def test_database_outage_is_retried_and_the_job_completes(sample_catalog, scheduled, monkeypatch):
    # Before the fix: the crash handler itself failed on the dead connection and the job stayed running forever.
    job = _job(sample_catalog)
    real_import, calls, outages = jobs.catalog_import, [], [1, 1]  # fails here, then in the task's first attempt

    def flaky_import(**kwargs):
        calls.append(1)
        if outages:
            outages.pop()
            raise OperationalError("server closed the connection unexpectedly")
        return real_import(**kwargs)

    monkeypatch.setattr(jobs, "catalog_import", flaky_import)
    with pytest.raises(OperationalError):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and import_job_is_stale(job) and _uploads_exist(job) == [True] * 2
    import_catalog_task.apply(args=[job.pk], throw=False)  # the task retries transient database errors (eagerly here)
    job.refresh_from_db()
    assert len(calls) == 3 and job.status == ImportJob.Status.DONE and Product.objects.count() == ROWS


def test_recover_command_resumes_stale_and_lost_jobs(sample_catalog, scheduled):
    stale = _job(sample_catalog, status=ImportJob.Status.RUNNING, started_at=timezone.now())
    lost = _job(sample_catalog, created_at=timezone.now() - timedelta(hours=1))
    fresh = _job(sample_catalog)  # queued a moment ago: its message is probably on its way
    out = io.StringIO()
    call_command("import_jobs", stdout=out)
    assert "STALE" in out.getvalue() and "LOST" in out.getvalue() and "--recover" in out.getvalue()
    call_command("import_jobs", "--recover", stdout=out)  # eager Celery: the queued tasks run in-process
    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: "done", lost.pk: "done", fresh.pk: "queued"}
    assert Product.objects.count() == ROWS  # the second run found everything unchanged: idempotent


def test_mark_failed_and_purge_uploads(sample_catalog):
    stale = _job(sample_catalog, status=ImportJob.Status.RUNNING, started_at=timezone.now())
    old_done = _job(sample_catalog, status=ImportJob.Status.DONE)  # finished before uploads were cleaned up
    call_command("import_jobs", "--mark-failed", stdout=io.StringIO())
    stale.refresh_from_db()
    assert stale.status == ImportJob.Status.FAILED and "worker died" in stale.error
    assert _uploads_exist(stale) == [False, False]
    out = io.StringIO()
    call_command("import_jobs", "--purge-uploads", stdout=out)
    assert "Deleted 2 uploaded file(s)." in out.getvalue() and _uploads_exist(old_done) == [False, False]


def test_import_command_explains_a_lost_database_connection(sample_catalog, monkeypatch):
    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("catalog.management.commands.import_catalog.catalog_import", lost)
    with pytest.raises(CommandError, match="run the same command again, it is idempotent"):
        call_command("import_catalog", str(sample_catalog), stdout=io.StringIO(), stderr=io.StringIO())


def test_a_starting_worker_resumes_jobs_left_by_dead_workers(sample_catalog, scheduled, monkeypatch):
    from django.db import connections

    from config.celery_app import recover_stuck_import_jobs

    closed = []
    monkeypatch.setattr(connections, "close_all", lambda: closed.append(1))  # keep the test's transaction open
    stale = _job(sample_catalog, status=ImportJob.Status.RUNNING, started_at=timezone.now())
    recover_stuck_import_jobs()  # the worker_ready handler (eager Celery: the queued task runs in-process)
    stale.refresh_from_db()
    assert stale.status == ImportJob.Status.DONE and Product.objects.count() == ROWS
    assert closed  # the worker's main process forks children later: it must not keep a connection open
