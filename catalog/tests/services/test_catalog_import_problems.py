"""A deliberately broken catalog: every problem reported with its line, every good row stored."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from catalog.models import EmbeddingStatus, Product, ProductImage
from catalog.services import catalog_import
from catalog.tests.conftest import SHARED_CATALOG, bomb_png, catalog_header_and_rows, encode, real_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_catalog(tmp_path: Path) -> Path:
    """styles.csv with bad rows (written by hand: raw commas and all) and images/ with bad files."""
    header, rows = catalog_header_and_rows()
    good = rows[:8]
    folder = tmp_path / "broken"
    images = folder / "images"
    images.mkdir(parents=True)
    for row in good:
        shutil.copyfile(SHARED_CATALOG / "images" / f"{row[0]}.jpg", images / f"{row[0]}.jpg")
    photo = real_image(good[0][0])
    source = (SHARED_CATALOG / "images" / f"{good[0][0]}.jpg").read_bytes()
    bad_files = {
        "900001": source[: len(source) // 2],  # truncated JPEG
        "900002": b"this is a text file, not a photo\n",
        "900003": b"",
        "900004": bomb_png(),
        "900005": encode(photo.convert("CMYK"), "JPEG"),
        "900006": encode(photo.convert("RGBA"), "PNG"),
        "900007": encode(Image.fromarray((np.arange(224 * 224).reshape(224, 224) % 65536).astype(np.uint16)), "PNG"),
        "900008": encode(photo.convert("P"), "PNG"),
        "900009": bomb_png(8000, 8000),  # under Pillow's own limit, over LOOKAWAY_MAX_IMAGE_PIXELS
    }
    for external_id, data in bad_files.items():
        (images / f"{external_id}.jpg").write_bytes(data)
    shutil.copyfile(SHARED_CATALOG / "images" / f"{rows[50][0]}.jpg", images / "999999.jpg")  # image without a row
    (tmp_path / "secret.jpg").write_bytes(source)  # outside the catalog folder
    lines = [",".join(header)] + [",".join(r) for r in good[:4]]  # lines 2-5: good
    lines += [
        ",Men,Apparel,Topwear,Shirts,Blue,Summer,2012,Casual,No id here",  # 6: missing id
        ",".join(good[0]),  # 7: duplicate id of line 2
        ",".join(good[4][:7] + ["20x1"] + good[4][8:]),  # 8: bad year, stored without it
        ",".join(good[5][:6]),  # 9: wrong column count
        ",".join(good[6][:9] + ["Puma Men, Blue, Shirt"]),  # 10: unquoted commas in the name: recovered
        f'"{good[7][0]}",Women,Apparel,Topwear,Tops,"Navy Blue",,,,"Quoted, with commas"',  # 11: empty cells
    ]
    lines += [f"{i},Women,Apparel,Topwear,Tops,Red,Summer,2012,Casual,Bad file {i}" for i in bad_files]  # 12-20
    lines += [
        "777777,Men,Footwear,Shoes,Casual Shoes,Black,Fall,2011,Casual,Row without image",  # 21
        "../../secret,Men,Apparel,Topwear,Shirts,Blue,Summer,2012,Casual,Path escape",  # 22
    ]
    (folder / "styles.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _problems(report) -> dict[int | None, list[str]]:
    found: dict[int | None, list[str]] = {}
    for problem in report.problems:
        found.setdefault(problem.line, []).append(f"{problem.field}: {problem.reason}")
    return found


def test_every_problem_reported_with_its_line(broken_catalog, scheduled):
    report = catalog_import(csv_path=broken_catalog / "styles.csv")
    found = _problems(report)

    assert (report.failed, report.skipped) == (2, 1)  # missing id, wrong column count; the duplicate
    assert report.created == 4 + 3 + 9 + 2  # good rows, bad year/commas/empty cells, bad-file rows, no image, escape
    assert "missing id" in found[6][0]
    assert "duplicate id, first on line 2" in found[7][0]
    assert "'20x1' is not a year (1900-2100): ignored" in found[8][0]
    assert "6 columns instead of 10" in found[9][0]
    assert "unquoted commas" in found[10][0]
    assert 11 not in found
    assert "corrupt or truncated JPEG" in found[12][0]
    assert "not an image" in found[13][0]
    assert "empty file" in found[14][0]
    assert "decompression bomb refused before decoding" in found[15][0] and "2500000000 pixels" in found[15][0]
    assert "converted CMYK to RGB" in found[16][0]
    assert "transparency flattened" in found[17][0]
    assert "16-bit" in found[18][0]
    assert "palette" in found[19][0]
    assert "8000x8000 = 64,000,000 pixels is over the limit" in found[20][0]
    assert "no image file images/777777.jpg" in found[21][0]
    assert "outside the catalog folder" in found[22][0]
    assert found[None] == ["image: images/999999.jpg has no row in the CSV: ignored"]


def test_good_rows_stored_and_bad_images_recorded(broken_catalog, scheduled):
    catalog_import(csv_path=broken_catalog / "styles.csv")
    _, rows = catalog_header_and_rows()

    for row in rows[:4]:
        assert ProductImage.objects.get(product__external_id=row[0]).embedding_status == EmbeddingStatus.PENDING
    assert Product.objects.get(external_id=rows[4][0]).year is None
    assert Product.objects.get(external_id=rows[6][0]).name == "Puma Men, Blue, Shirt"
    quoted = Product.objects.get(external_id=rows[7][0])
    assert (quoted.base_colour, quoted.season, quoted.year, quoted.name) == (
        "Navy Blue",
        "",
        None,
        "Quoted, with commas",
    )
    failed = dict(
        ProductImage.objects.filter(embedding_status="failed").values_list("product__external_id", "embedding_error")
    )
    assert set(failed) == {"900001", "900002", "900003", "900004", "900009", "../../secret"}
    assert "LOOKAWAY_MAX_IMAGE_PIXELS" in failed["900009"] and "2500000000 pixels" in failed["900004"]
    for external_id in ("900005", "900006", "900007", "900008"):
        image = ProductImage.objects.get(product__external_id=external_id)
        stored = Image.open(image.file.path)
        assert (stored.mode, stored.size, image.embedding_status) == ("RGB", (224, 224), EmbeddingStatus.PENDING)
        assert image.import_note.startswith("converted")
    assert not Product.objects.get(external_id="777777").images.exists()
    assert not Product.objects.filter(external_id__in=["", "999999"]).exists()


def test_broken_reimport_is_unchanged(broken_catalog, scheduled):
    catalog_import(csv_path=broken_catalog / "styles.csv")
    report = catalog_import(csv_path=broken_catalog / "styles.csv")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 18)


def test_oversized_file_refused_before_reading(broken_catalog, scheduled, settings):
    settings.LOOKAWAY_MAX_IMAGE_BYTES = 1000
    catalog_import(csv_path=broken_catalog / "styles.csv", limit=1)
    image = ProductImage.objects.get()
    assert image.embedding_status == EmbeddingStatus.FAILED and "over the limit of 1,000" in image.embedding_error


def test_symlink_leaving_the_folder_refused(broken_catalog, scheduled):
    _, rows = catalog_header_and_rows()
    target = broken_catalog / "images" / f"{rows[0][0]}.jpg"
    target.unlink()
    os.symlink(broken_catalog.parent / "secret.jpg", target)
    report = catalog_import(csv_path=broken_catalog / "styles.csv", limit=1)
    assert "outside the catalog folder (symbolic link)" in report.problems[0].reason
