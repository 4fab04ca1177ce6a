"""The admin "Import catalog" page end to end: CSV + zip upload, eager Celery task, job page; staff only."""

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ImportJob, Product, ProductImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def _uploads(sample_catalog, *, extra_entries: dict[str, bytes] | None = None) -> dict:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((sample_catalog / "images").iterdir())[:50]:
            archive.write(path, f"images/{path.name}")
        for name, data in (extra_entries or {}).items():
            archive.writestr(name, data)
    csv_bytes = (sample_catalog / "styles.csv").read_bytes()
    lines = csv_bytes.decode().splitlines()
    body = "\n".join(lines[:51] + ["bad-row-without-columns"]) + "\n"
    return {
        "csv_file": SimpleUploadedFile("styles.csv", body.encode(), content_type="text/csv"),
        "images_zip": SimpleUploadedFile("photos.zip", buffer.getvalue(), content_type="application/zip"),
    }


def test_import_page_runs_the_import_and_shows_the_report(
    staff_client, sample_catalog, scheduled, django_capture_on_commit_callbacks
):
    page = staff_client.get(reverse("admin:catalog_importjob_import"))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    uploads = _uploads(sample_catalog, extra_entries={"../../evil.jpg": b"x", "/abs.jpg": b"x"})

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:catalog_importjob_import"), uploads)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:catalog_importjob_report", args=[job.pk])
    assert job.status == ImportJob.Status.DONE and job.error == ""
    assert (job.processed_rows, job.total_rows) == (51, 51)
    assert (job.report["created"], job.report["failed"]) == (50, 1)
    assert Product.objects.count() == ProductImage.objects.exclude(file="").count() == 50
    assert sum(len(c) for c in scheduled) == 50
    page = staff_client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200 and "Done" in html and 'http-equiv="refresh"' not in html
    assert "1 columns instead of 10" in html and "points outside the folder" in html
    assert "&#x27;../../evil.jpg&#x27;" in html and "&#x27;/abs.jpg&#x27;" in html
    assert not (sample_catalog.parent / "evil.jpg").exists()


def test_running_job_page_refreshes(staff_client):
    job = ImportJob.objects.create(
        csv_file="imports/x.csv", status=ImportJob.Status.RUNNING, total_rows=10, processed_rows=4
    )
    html = staff_client.get(reverse("admin:catalog_importjob_report", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in html and "4 / 10 rows" in html and 'value="40"' in html


def test_import_page_rejects_a_non_zip(staff_client, sample_catalog):
    uploads = {
        "csv_file": SimpleUploadedFile("styles.csv", (sample_catalog / "styles.csv").read_bytes()),
        "images_zip": SimpleUploadedFile("photos.zip", b"not a zip at all"),
    }
    response = staff_client.post(reverse("admin:catalog_importjob_import"), uploads)
    assert response.status_code == 200 and "This is not a zip file." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_unreadable_csv_marks_the_job_failed(staff_client, scheduled, django_capture_on_commit_callbacks):
    uploads = {"csv_file": SimpleUploadedFile("styles.csv", b"colour,size\nred,M\n")}
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:catalog_importjob_import"), uploads)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and "no id column" in job.error


@pytest.mark.parametrize("name", ["admin:catalog_importjob_import", "admin:catalog_importjob_changelist"])
def test_only_staff_reach_the_import_pages(client, name):
    url = reverse(name)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    user = get_user_model().objects.create_user("shopper", password="pw")
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302 and reverse("admin:login") in response.url
    job_page = client.get(reverse("admin:catalog_importjob_report", args=[1]))
    assert job_page.status_code == 302


def test_staff_without_permission_get_403(client):
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:catalog_importjob_import")).status_code == 403
    assert client.post(reverse("admin:catalog_importjob_import"), {}).status_code == 403
