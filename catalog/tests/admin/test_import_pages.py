"""The admin "Import catalog" page end to end: CSV + zip upload, eager Celery task, job page; staff only."""

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ImportJob, Product, ProductImage
from catalog.tests.conftest import SHARED_CATALOG

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


def test_odd_zip_entries_are_reported_and_the_rest_imports(
    staff_client, scheduled, django_capture_on_commit_callbacks
):
    photo = (SHARED_CATALOG / "images" / "15970.jpg").read_bytes()
    long_name = "images/" + "x" * 300 + ".jpg"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("images/a.jpg", photo)
        archive.writestr("images/a.jpg/b.jpg", photo)  # a.jpg is already a file: this entry cannot be extracted
        archive.writestr(long_name, photo)
        archive.writestr("images/ok.jpg", photo)
    csv_body = "id,name,image\nE-1,File,images/a.jpg\nE-2,Under the file,images/a.jpg/b.jpg\nE-3,Ok,images/ok.jpg\n"
    uploads = {
        "csv_file": SimpleUploadedFile("products.csv", csv_body.encode(), content_type="text/csv"),
        "images_zip": SimpleUploadedFile("photos.zip", buffer.getvalue(), content_type="application/zip"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:catalog_importjob_import"), uploads)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.error == ""
    assert job.report["created"] == 3
    problems = {(p["line"], p["reason"]) for p in job.report["problems"]}
    clash = "entry 'images/a.jpg/b.jpg' cannot be extracted: another entry has the same name as a file and as a folder"
    assert (None, f"{clash}: skipped") in problems
    assert any(line is None and "name too long for the file system" in reason for line, reason in problems)
    assert (3, "no image file images/a.jpg/b.jpg") in problems  # the row of the failed entry: a missing photo
    with_photo = set(ProductImage.objects.exclude(file="").values_list("product__external_id", flat=True))
    assert with_photo == {"E-1", "E-3"}
    html = staff_client.get(reverse("admin:catalog_importjob_report", args=[job.pk])).content.decode()
    assert "name too long for the file system" in html and "x" * 101 not in html
