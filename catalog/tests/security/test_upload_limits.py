"""Upload limits of the admin import: huge photos in the zip, absurd CSVs, oversized uploads (stopped while they
stream in) and forms: reported, never a 500."""

import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse
from PIL import Image

from catalog.models import EmbeddingStatus, ImportJob, Product, ProductImage
from catalog.tests.conftest import bomb_png

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def _jpeg(size=(64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _import(client, csv_bytes: bytes, zip_bytes: bytes | None, capture) -> ImportJob:
    uploads = {"csv_file": SimpleUploadedFile("products.csv", csv_bytes, content_type="text/csv")}
    if zip_bytes is not None:
        uploads["images_zip"] = SimpleUploadedFile("photos.zip", zip_bytes, content_type="application/zip")
    with capture(execute=True):
        response = client.post(reverse("admin:catalog_importjob_import"), uploads)
    assert response.status_code == 302, response.content[:500]
    job = ImportJob.objects.latest("pk")
    page = client.get(reverse("admin:catalog_importjob_report", args=[job.pk]))
    assert page.status_code == 200
    return job


def test_a_21_mb_photo_in_the_zip_is_dropped_and_reported(staff, scheduled, django_capture_on_commit_callbacks):
    huge = _jpeg() + b"\x00" * (21 * MB)  # 21 MB on disk, a few KB deflated: over LOOKAWAY_MAX_IMAGE_BYTES (20 MB)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("images/big.jpg", huge)
        archive.writestr("images/ok.jpg", _jpeg())
        archive.writestr("images/bomb.png", bomb_png())
    csv_bytes = b"id,name,image\nB-1,Big,images/big.jpg\nB-2,Ok,images/ok.jpg\nB-3,Bomb,images/bomb.png\n"
    job = _import(staff, csv_bytes, buffer.getvalue(), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.DONE, job.error
    reasons = " | ".join(p["reason"] for p in job.report["problems"])
    assert "'images/big.jpg' is 22,020," in reasons and "over the image limit: skipped" in reasons
    images = {i.product.external_id: i for i in ProductImage.objects.select_related("product")}
    assert images["B-2"].embedding_status == EmbeddingStatus.PENDING
    assert (
        images["B-3"].embedding_status == EmbeddingStatus.FAILED
        and "decompression bomb" in images["B-3"].embedding_error
    )
    assert Product.objects.count() == 3  # B-1 stored without its photo ("no image file" warning)
    assert "no image file images/big.jpg" in reasons


def test_absurd_csv_rows_are_reported_and_the_good_rows_kept(staff, scheduled, django_capture_on_commit_callbacks):
    rows = [
        "id,name,colour",
        "G-1,Good one,Red",
        "G-2," + "x" * 200_000 + ",Red",  # over the csv module's 128 KiB field limit
        "G-3," + "y" * 20_000 + ",Red",  # over MAX_CELL_CHARS
        "G-4,Many columns," + ",".join(["z"] * 50_000),
        "G-5,Nul\x00in the name,Blue",
        '"G-6,"unterminated quote,Red',
        "\ufeffG-7,BOM in the middle,Red",
        "G-8," + "é" * 600 + ",Red",  # over the name field's length
        "-1,Negative id,Red",
        "G-9,Good two,Green",
    ]
    csv_bytes = ("\n".join(rows) + "\n" + "\n" * 100_000 + ",,\n" * 10_000).encode()
    job = _import(staff, csv_bytes, None, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.DONE, job.error
    external_ids = set(Product.objects.values_list("external_id", flat=True))
    assert {"G-1", "G-9", "G-5"} <= external_ids and not {"G-2", "G-3", "G-4", "G-8"} & external_ids
    assert Product.objects.get(external_id="G-5").name == "Nulin the name"
    assert job.report["failed"] >= 4


@pytest.fixture
def stored_bytes(monkeypatch, settings, tmp_path) -> dict[str, int]:
    """Bytes of each file field that reach Django's temporary-file handler (every upload goes to disk here)."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # no in-memory uploads: whatever is stored is written to a temp file
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    written: dict[str, int] = {}
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        written[self.field_name] = written.get(self.field_name, 0) + len(raw_data)
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    return written


def _oversized_uploads() -> dict:
    return {
        "csv_file": SimpleUploadedFile("products.csv", b"id,name\n" + b"1,a\n" * 500_000, content_type="text/csv"),
        "images_zip": SimpleUploadedFile("photos.zip", b"PK" + b"\x00" * 3 * MB, content_type="application/zip"),
    }


@pytest.mark.parametrize(
    ("field", "setting", "message"),
    [
        ("csv_file", "LOOKAWAY_MAX_IMPORT_CSV_BYTES", "The CSV file is larger than the limit of 100,000 bytes"),
        ("images_zip", "LOOKAWAY_MAX_IMPORT_ZIP_BYTES", "The zip is larger than the limit of 100,000 bytes"),
    ],
)
def test_a_file_over_its_limit_is_stopped_while_it_streams_in(staff, settings, stored_bytes, field, setting, message):
    settings.LOOKAWAY_MAX_IMPORT_CSV_BYTES = settings.LOOKAWAY_MAX_IMPORT_ZIP_BYTES = 10 * MB
    setattr(settings, setting, 100_000)

    response = staff.post(reverse("admin:catalog_importjob_import"), _oversized_uploads())

    html = response.content.decode()
    assert response.status_code == 413 and f"{message} ({setting}): the upload was stopped" in html
    assert "This field is required" not in html and ImportJob.objects.count() == 0
    # The 2 MB CSV or the 3 MB zip: no more than the limit was handed to the handler that writes the temp file.
    assert stored_bytes[field] <= 100_000
    assert list(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == []  # and that partial temp file is gone


def test_a_body_over_the_total_limit_is_refused_before_it_is_read(staff, settings, stored_bytes):
    settings.LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES = 1 * MB

    response = staff.post(reverse("admin:catalog_importjob_import"), _oversized_uploads())

    html = response.content.decode()
    assert (
        response.status_code == 413 and "over the limit of 1,048,576 bytes (LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES)" in html
    )
    assert "The upload is 5,1" in html  # the declared Content-Length, about 5 MB
    assert stored_bytes == {} and ImportJob.objects.count() == 0


def test_uploads_within_the_limits_still_import(
    staff, settings, stored_bytes, scheduled, django_capture_on_commit_callbacks
):
    settings.LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES = 100_000
    settings.LOOKAWAY_MAX_IMPORT_CSV_BYTES = settings.LOOKAWAY_MAX_IMPORT_ZIP_BYTES = 50_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("images/ok.jpg", _jpeg())
    job = _import(
        staff, b"id,name,image\nK-1,Ok,images/ok.jpg\n", buffer.getvalue(), django_capture_on_commit_callbacks
    )
    assert job.status == ImportJob.Status.DONE and job.report["images_stored"] == 1
    assert stored_bytes["csv_file"] == 35 and stored_bytes["images_zip"] == len(buffer.getvalue())


def test_the_import_form_still_checks_csrf(scheduled, django_capture_on_commit_callbacks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    url = reverse("admin:catalog_importjob_import")

    def csv_upload() -> SimpleUploadedFile:
        return SimpleUploadedFile("products.csv", b"id,name\n1,a\n", content_type="text/csv")

    assert client.post(url, {"csv_file": csv_upload()}).status_code == 403  # no token: the CSRF failure page
    token = str(client.get(url).context["csrf_token"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"csv_file": csv_upload(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and ImportJob.objects.get().status == ImportJob.Status.DONE


def test_form_bodies_over_data_upload_max_memory_size_are_400(staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = staff.post(
        reverse("admin:catalog_importjob_import"),
        "deactivate_missing=" + "x" * 5000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert ImportJob.objects.count() == 0
