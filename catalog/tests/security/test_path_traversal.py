"""No path traversal in imports: CSV image paths, symbolic links in the catalog folder, zip-slip through the admin."""

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import EmbeddingStatus, ImportJob, Product, ProductImage
from catalog.services import catalog_import
from catalog.tests.conftest import SHARED_CATALOG, catalog_header_and_rows, write_csv

pytestmark = pytest.mark.django_db

UNSAFE_PATHS = {
    "T-1": ("../../etc/passwd", "points outside the catalog folder"),
    "T-2": ("/etc/passwd", "absolute path"),
    "T-3": ("C:\\Windows\\win.ini", "absolute path"),
    "T-4": ("..\\..\\secret.jpg", "points outside the catalog folder"),
    "T-5": ("photos/../../secret.jpg", "points outside the catalog folder"),
    "T-6": ("file:///etc/passwd", "is a URL"),
    "T-7": ("outdir/passwd", "leads outside the catalog folder"),  # symlinked directory -> /etc
    "T-8": ("photos/secret-link.jpg", "leads outside the catalog folder"),  # symlinked file -> ../secret.jpg
    "T-9": ("photos/loop/x.jpg", "cannot be resolved (symbolic link loop?)"),  # a symlink pointing at itself
}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A generic CSV with one good photo and every unsafe path; a secret photo next to the catalog folder."""
    _, rows = catalog_header_and_rows()
    folder = tmp_path / "shop"
    (folder / "photos").mkdir(parents=True)
    shutil.copyfile(SHARED_CATALOG / "images" / f"{rows[0][0]}.jpg", folder / "photos" / "good.jpg")
    shutil.copyfile(SHARED_CATALOG / "images" / f"{rows[1][0]}.jpg", tmp_path / "secret.jpg")
    os.symlink("/etc", folder / "outdir")
    os.symlink(tmp_path / "secret.jpg", folder / "photos" / "secret-link.jpg")
    os.symlink(folder / "photos" / "loop", folder / "photos" / "loop")
    body = [["T-0", "Good", "photos/good.jpg"]] + [[key, key, path] for key, (path, _) in UNSAFE_PATHS.items()]
    return write_csv(folder / "products.csv", ["id", "name", "image"], body)


def test_unsafe_image_paths_are_refused_with_a_reason_and_the_rows_kept(shop, scheduled):
    secret = (shop.parent.parent / "secret.jpg").read_bytes()
    report = catalog_import(csv_path=shop)
    assert (report.created, report.failed) == (10, 0)
    images = {image.product.external_id: image for image in ProductImage.objects.select_related("product")}
    assert images["T-0"].embedding_status == EmbeddingStatus.PENDING and images["T-0"].file
    for key, (_, reason) in UNSAFE_PATHS.items():
        image = images[key]
        assert image.embedding_status == EmbeddingStatus.FAILED and not image.file, key
        assert reason in image.embedding_error, (key, image.embedding_error)
    stored = [Path(image.file.path).read_bytes() for image in ProductImage.objects.exclude(file="")]
    assert stored and secret not in stored  # nothing outside the folder was copied into media


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_admin_zip_slip_and_csv_escapes_write_nothing_outside(
    client, tmp_path, scheduled, monkeypatch, django_capture_on_commit_callbacks
):
    """A zip with ../ and absolute entries plus a CSV pointing out of the extraction folder: all refused."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(workdir))  # the job's extraction folder lives under here
    _, rows = catalog_header_and_rows()
    photo = (SHARED_CATALOG / "images" / f"{rows[0][0]}.jpg").read_bytes()
    archive = _zip(
        {
            "images/good.jpg": photo,
            "../../slip.jpg": photo,
            "/tmp/abs-slip.jpg": photo,
            "images/../../../slip2.jpg": photo,
        }
    )
    csv_text = "id,name,image\nZ-1,Good,images/good.jpg\nZ-2,Up,../catalog.csv\nZ-3,Abs,/etc/hostname\n"
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    uploads = {
        "csv_file": SimpleUploadedFile("products.csv", csv_text.encode(), content_type="text/csv"),
        "images_zip": SimpleUploadedFile("photos.zip", archive, content_type="application/zip"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:catalog_importjob_import"), uploads)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE, job.error
    reasons = " | ".join(problem["reason"] for problem in job.report["problems"])
    assert reasons.count("points outside the folder") == 3
    assert "'../catalog.csv' points outside the catalog folder" in reasons and "absolute path" in reasons
    assert not list(tmp_path.rglob("slip*.jpg")) and not Path("/tmp/abs-slip.jpg").exists()
    assert list(workdir.iterdir()) == []  # the per-job folder is removed
    assert Product.objects.count() == 3 and ProductImage.objects.exclude(file="").count() == 1
