"""Fault 3: restart PostgreSQL (immediate mode: every connection dropped, like a crash) during a catalog import;
and, with the same setup, kill -9 the worker running an admin import job.

Runs against a throwaway cluster `faults` on port 5433 (created with pg_createcluster on first use; needs root) and
a throwaway Redis on 6392. Cases:

- `command`: `manage.py import_catalog` (CLI) interrupted by the restart; recovery = run the same command again.
- `admin_job`: an admin import job (CSV + zip) run by a Celery worker, interrupted by the restart; the task retries
  transient database errors and resumes the job by itself.
- `admin_job_worker_killed`: the worker running the job is SIGKILLed and started again; the new worker finds the
  job stale (nobody holds its advisory lock) and queues it again.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SCENARIO = "pg_restart"
DATABASE = "lookaway_faults_pg"
HOSTPORT = f"127.0.0.1:{common.FAULT_PG_PORT}"
REDIS_PORT = 6392
BROKER = f"redis://127.0.0.1:{REDIS_PORT}/0"
CLI_ROWS = 400
JOB_ROWS = int(os.environ.get("FAULTS_JOB_ROWS", "1500"))


def job_files() -> tuple[Path, Path]:
    """A CSV of the first JOB_ROWS catalog rows and a zip of their photos (made once)."""
    folder = common.BASE_DIR / f"job-{JOB_ROWS}"
    csv_path, zip_path = folder / "styles.csv", folder / "photos.zip"
    if zip_path.exists():
        return csv_path, zip_path
    folder.mkdir(parents=True, exist_ok=True)
    with open(common.CATALOG / "styles.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[: JOB_ROWS + 1]
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    with zipfile.ZipFile(zip_path.with_suffix(".tmp"), "w", zipfile.ZIP_STORED) as archive:
        for row in rows[1:]:
            photo = common.CATALOG / "images" / f"{row[0]}.jpg"
            if photo.exists():
                archive.write(photo, f"images/{row[0]}.jpg")
    zip_path.with_suffix(".tmp").rename(zip_path)
    return csv_path, zip_path


def fresh_database() -> str:
    """The scenario database on the throwaway cluster, migrated (copied from the shared empty template)."""
    url = common.recreate_database(DATABASE, hostport=HOSTPORT)
    dump = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "--no-owner", common.TEMPLATE_EMPTY],
        capture_output=True,
        check=True,
    )
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-p", str(common.FAULT_PG_PORT), "-U", "postgres", "-d", DATABASE],
        input=dump.stdout,
        capture_output=True,
        check=True,
    )
    return url


def count_products() -> int:
    from django.db import connections

    from catalog.models import Product

    try:
        return Product.objects.count()
    except Exception:  # noqa: BLE001 - the server is restarting
        connections.close_all()
        return -1


def case_command(env: dict) -> None:
    command = [common.PYTHON, "manage.py", "import_catalog", str(common.CATALOG), "--limit", str(CLI_ROWS)]
    command += ["--no-embed", "--batch-size", "25"]
    process = subprocess.Popen(command, cwd=common.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    common.wait_until(lambda: count_products() >= 50 or process.poll() is not None, timeout=300, step=0.1)
    before = count_products()
    common.fault_pg_restart()
    out, err = process.communicate(timeout=300)
    after_crash = max(count_products(), 0) if common.wait_until(lambda: count_products() >= 0, timeout=60) else -1
    timer = common.Timer()
    rerun = common.manage(env, *command[2:], check=False)
    seconds = timer()
    summary = [line for line in rerun.stdout.splitlines() if "created" in line][-1:]
    last_error = [line for line in err.decode(errors="replace").splitlines() if "Error" in line][-1:]
    common.emit(
        scenario=SCENARIO,
        case="command",
        rows=CLI_ROWS,
        products_at_restart=before,
        what_happened=f"import_catalog exited {process.returncode}: {last_error[0][:160] if last_error else ''}",
        products_after_crash=after_crash,
        lost=CLI_ROWS - count_products(),
        recovery="run the same import_catalog command again (idempotent)",
        recovery_exit=rerun.returncode,
        rerun_summary=summary,
        seconds_to_recover=seconds,
    )


def _start_job(csv_path: Path, zip_path: Path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from catalog.services.jobs import import_job_create

    with transaction.atomic():
        job = import_job_create(
            csv_file=SimpleUploadedFile("styles.csv", csv_path.read_bytes()),
            images_zip=SimpleUploadedFile("photos.zip", zip_path.read_bytes()),
        )
    return job


def case_job(env: dict, *, kill_worker: bool) -> None:
    from catalog.models import ImportJob

    data_dir = Path(env["LOOKAWAY_DATA_DIR"])
    worker = common.Worker(env, data_dir / "worker.log", queues="default")
    worker.start()
    try:
        csv_path, zip_path = job_files()
        job = _start_job(csv_path, zip_path)
        uploads = [Path(job.csv_file.path), Path(job.images_zip.path)]
        common.wait_until(lambda: count_products() >= 500, timeout=600, step=0.1)
        before = count_products()
        timer = common.Timer()
        if kill_worker:
            worker.kill()
            status_after = ImportJob.objects.get(pk=job.pk).status
            worker.start()
            fault = "worker SIGKILLed mid-job, then started again"
        else:
            common.fault_pg_restart()
            common.wait_until(lambda: count_products() >= 0, timeout=60)
            status_after = ImportJob.objects.get(pk=job.pk).status
            fault = "PostgreSQL restarted mid-job"
        finished = common.wait_until(
            lambda: ImportJob.objects.get(pk=job.pk).status in ("done", "failed"), timeout=600, step=0.5
        )
        seconds = timer()
        job.refresh_from_db()
        report = job.report or {}
        log = worker.log_since()
        common.emit(
            scenario=SCENARIO,
            case="admin_job_worker_killed" if kill_worker else "admin_job",
            rows=JOB_ROWS,
            products_at_fault=before,
            what_happened=f"{fault}; job status right after: {status_after}",
            job_status=job.status,
            job_error=job.error[:160],
            resumed="resumed after its worker died" in str(report.get("problems", "")) or "Retry in" in log,
            report_counts={key: report.get(key) for key in ("created", "unchanged", "failed")},
            lost=JOB_ROWS - count_products() if finished else None,
            uploads_left=sum(1 for path in uploads if path.exists()),
            recovery="by itself (task retry)" if not kill_worker else "by itself (a starting worker requeues it)",
            seconds_to_recover=seconds,
        )
    finally:
        worker.stop()


def main() -> None:
    reason = common.fault_pg_available()
    if reason:
        common.skip(SCENARIO, reason)
    common.ensure_templates()
    common.fault_pg_start()
    common.fault_redis(port=REDIS_PORT)
    cases = os.environ.get("FAULTS_PG_CASES", "command,admin_job,admin_job_worker_killed").split(",")
    data_dir = common.BASE_DIR / "pg"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    database = common.database_url(DATABASE, HOSTPORT)
    env = common.scenario_env(database=database, data_dir=data_dir, broker=BROKER, CELERY_VISIBILITY_TIMEOUT="30")
    common.setup_django(env)
    from django.db import connections

    try:
        for case in cases:
            connections.close_all()
            fresh_database()
            if case == "command":
                case_command(env)
            else:
                case_job(env, kill_worker=case == "admin_job_worker_killed")
            time.sleep(0.5)
    finally:
        connections.close_all()
        common.stop_fault_redis(REDIS_PORT)
        if not os.environ.get("FAULTS_KEEP"):
            common.drop_database(DATABASE, hostport=HOSTPORT)
        common.fault_pg_stop()


if __name__ == "__main__":
    main()
