"""The import service on real catalog rows and photos: create, re-import, change, deactivate, batch fallback."""

import hashlib
import shutil

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from catalog.models import EmbeddingStatus, Product, ProductImage
from catalog.services import CatalogFileError, catalog_import, importing
from catalog.tests.conftest import SAMPLE_SIZE, SHARED_CATALOG, write_csv

pytestmark = pytest.mark.django_db


def test_import_creates_products_and_stores_photos(
    sample_catalog, sample_rows, scheduled, django_capture_on_commit_callbacks
):
    header, rows = sample_rows
    with django_capture_on_commit_callbacks(execute=True):
        report = catalog_import(csv_path=sample_catalog / "styles.csv", batch_size=64)

    assert (report.created, report.updated, report.unchanged, report.failed) == (SAMPLE_SIZE, 0, 0, 0)
    assert report.images_stored == SAMPLE_SIZE and report.problems == []
    first = rows[0]
    product = Product.objects.get(external_id=first[0])
    assert (product.gender, product.master_category, product.article_type) == (first[1], first[2], first[4])
    assert product.year == int(first[7]) and product.name == first[9] and product.is_active
    image = product.images.get()
    source = (SHARED_CATALOG / "images" / f"{first[0]}.jpg").read_bytes()
    assert image.content_hash == hashlib.sha256(source).hexdigest()
    assert image.file.read() == source  # stored as is: already 8-bit RGB JPEG
    assert (image.width, image.height, image.bytes) == (*Image.open(image.file.path).size, len(source))
    assert image.embedding_status == EmbeddingStatus.PENDING
    # One scheduling call per committed batch (64 + 64 + 64 + 8), every new image exactly once.
    assert [len(c) for c in scheduled] == [64, 64, 64, 8]
    assert sorted(i for c in scheduled for i in c) == sorted(ProductImage.objects.values_list("pk", flat=True))


def test_reimport_changes_nothing(sample_catalog, scheduled, django_capture_on_commit_callbacks):
    catalog_import(csv_path=sample_catalog / "styles.csv")
    ProductImage.objects.update(embedding_status=EmbeddingStatus.DONE, embedded_with="test-backbone")
    before = list(Product.objects.values_list("pk", "updated_at"))
    scheduled.clear()

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        report = catalog_import(csv_path=sample_catalog / "styles.csv")

    assert (report.created, report.updated, report.unchanged, report.images_stored) == (0, 0, SAMPLE_SIZE, 0)
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == [] and scheduled == []
    assert len(queries) <= 8  # one SELECT for products and one for their images per batch (+ savepoints)
    assert list(Product.objects.values_list("pk", "updated_at")) == before
    assert set(ProductImage.objects.values_list("embedding_status", flat=True)) == {EmbeddingStatus.DONE}


def test_changed_file_updates_only_changed_rows(
    sample_catalog, sample_rows, scheduled, django_capture_on_commit_callbacks
):
    header, rows = sample_rows
    catalog_import(csv_path=sample_catalog / "styles.csv")
    ProductImage.objects.update(embedding_status=EmbeddingStatus.DONE, embedded_with="test-backbone")
    untouched = Product.objects.get(external_id=rows[3][0])
    rows[0][5] = "Maroon"  # colour
    rows[1][9] = "Renamed product"
    # New photo bytes for the third row: a different real image under the same name.
    other = next(p for p in sorted((SHARED_CATALOG / "images").iterdir()) if p.stem not in {r[0] for r in rows})
    shutil.copyfile(other, sample_catalog / "images" / f"{rows[2][0]}.jpg")
    write_csv(sample_catalog / "styles.csv", header, rows)
    scheduled.clear()

    with django_capture_on_commit_callbacks(execute=True):
        report = catalog_import(csv_path=sample_catalog / "styles.csv")

    assert (report.created, report.updated, report.unchanged) == (0, 3, SAMPLE_SIZE - 3)
    assert Product.objects.get(external_id=rows[0][0]).base_colour == "Maroon"
    assert Product.objects.get(external_id=rows[1][0]).name == "Renamed product"
    changed_image = ProductImage.objects.get(product__external_id=rows[2][0])
    assert changed_image.content_hash == hashlib.sha256(other.read_bytes()).hexdigest()
    assert (changed_image.embedding_status, changed_image.embedded_with) == (EmbeddingStatus.PENDING, "")
    assert scheduled == [[changed_image.pk]]  # only the new photo is re-embedded
    assert Product.objects.get(pk=untouched.pk).updated_at == untouched.updated_at
    assert ProductImage.objects.filter(embedding_status=EmbeddingStatus.DONE).count() == SAMPLE_SIZE - 1


def test_deactivate_missing_never_deletes(sample_catalog, sample_rows, scheduled):
    header, rows = sample_rows
    catalog_import(csv_path=sample_catalog / "styles.csv")
    write_csv(sample_catalog / "styles.csv", header, rows[5:])

    report = catalog_import(csv_path=sample_catalog / "styles.csv", deactivate_missing=True)

    assert report.deactivated == 5 and report.unchanged == SAMPLE_SIZE - 5
    assert Product.objects.count() == SAMPLE_SIZE
    assert set(Product.objects.filter(is_active=False).values_list("external_id", flat=True)) == {
        r[0] for r in rows[:5]
    }
    write_csv(sample_catalog / "styles.csv", header, rows)  # back in the file: active again
    assert catalog_import(csv_path=sample_catalog / "styles.csv").updated == 5
    assert not Product.objects.filter(is_active=False).exists()
    with pytest.raises(CatalogFileError, match="limit"):
        catalog_import(csv_path=sample_catalog / "styles.csv", deactivate_missing=True, limit=10)


def test_failing_batch_falls_back_to_rows_and_keeps_the_good_ones(sample_catalog, sample_rows, scheduled, monkeypatch):
    header, rows = sample_rows
    bad_id = rows[10][0]
    write_batch = importing._write_batch

    def failing(plans):
        if any(p.row.external_id == bad_id for p in plans):
            raise IntegrityError("simulated constraint violation")
        return write_batch(plans)

    monkeypatch.setattr(importing, "_write_batch", failing)
    report = catalog_import(csv_path=sample_catalog / "styles.csv", batch_size=50)

    assert (report.created, report.failed) == (SAMPLE_SIZE - 1, 1)
    assert [(p.line, p.external_id) for p in report.problems] == [(12, bad_id)]
    assert "simulated constraint violation" in report.problems[0].reason
    assert Product.objects.count() == ProductImage.objects.count() == SAMPLE_SIZE - 1


def test_unreadable_files_raise(tmp_path):
    with pytest.raises(CatalogFileError, match="cannot read"):
        catalog_import(csv_path=tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CatalogFileError, match="empty"):
        catalog_import(csv_path=tmp_path / "empty.csv")
    (tmp_path / "nohead.csv").write_text("colour,size\nred,M\n")
    with pytest.raises(CatalogFileError, match="no id column"):
        catalog_import(csv_path=tmp_path / "nohead.csv")


def test_bad_new_photo_never_replaces_a_good_one(sample_catalog, sample_rows, scheduled):
    _, rows = sample_rows
    catalog_import(csv_path=sample_catalog / "styles.csv")
    before = ProductImage.objects.get(product__external_id=rows[0][0])
    (sample_catalog / "images" / f"{rows[0][0]}.jpg").write_bytes(b"oops, not a photo")

    report = catalog_import(csv_path=sample_catalog / "styles.csv")

    assert (report.updated, report.unchanged) == (0, SAMPLE_SIZE)
    assert [(p.line, p.reason) for p in report.problems] == [
        (2, "not an image (Pillow cannot identify the format): the stored photo is kept")
    ]
    after = ProductImage.objects.get(pk=before.pk)
    assert (after.file.name, after.content_hash, after.embedding_status) == (
        before.file.name,
        before.content_hash,
        "pending",
    )
