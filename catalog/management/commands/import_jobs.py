"""manage.py import_jobs: list admin import jobs, recover the ones a dead worker left behind, purge uploads."""

from django.core.management.base import BaseCommand

from catalog.models import ImportJob
from catalog.services.jobs import import_jobs_purge_uploads, import_jobs_recover, import_jobs_stuck


class Command(BaseCommand):
    help = (
        "List import jobs; --recover queues jobs left 'running' by a dead worker (or 'queued' with a lost message) "
        "again (they resume idempotently); --mark-failed ends them instead; --purge-uploads deletes the uploaded "
        "files of finished jobs."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--recover", action="store_true", help="queue stuck jobs again (resume)")
        action.add_argument("--mark-failed", action="store_true", help="mark stuck jobs failed")
        action.add_argument("--purge-uploads", action="store_true", help="delete uploads of finished jobs")

    def handle(self, *args, **options):
        if options["recover"] or options["mark_failed"]:
            result = import_jobs_recover(mark_failed=options["mark_failed"])
            if result.requeued:
                self.stdout.write(self.style.SUCCESS(f"Queued again: {', '.join(map(str, result.requeued))}"))
            if result.failed:
                self.stdout.write(self.style.SUCCESS(f"Marked failed: {', '.join(map(str, result.failed))}"))
            if not result.requeued and not result.failed:
                self.stdout.write("No stuck import jobs.")
            return
        if options["purge_uploads"]:
            self.stdout.write(self.style.SUCCESS(f"Deleted {import_jobs_purge_uploads()} uploaded file(s)."))
            return
        running, lost = import_jobs_stuck()
        stuck = {job.pk: "STALE (worker died)" for job in running} | {job.pk: "LOST (never started)" for job in lost}
        for job in ImportJob.objects.order_by("-created_at")[:50]:
            note = stuck.get(job.pk, "")
            self.stdout.write(f"#{job.pk:<6} {job.status:<8} {job.processed_rows}/{job.total_rows} rows  {note}")
        if stuck:
            self.stdout.write(self.style.WARNING("Stuck jobs: run manage.py import_jobs --recover"))
