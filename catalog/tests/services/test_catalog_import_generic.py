"""The generic CSV layout: id, name, image path relative to the CSV, other columns to fields or attributes."""

import shutil
from pathlib import Path

import pytest

from catalog.models import EmbeddingStatus, Product, ProductImage
from catalog.services import CatalogFileError, catalog_import
from catalog.tests.conftest import SHARED_CATALOG, catalog_header_and_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def generic_csv(tmp_path: Path) -> Path:
    """A shop export: its own column names, photos in a sub-folder, and a few unsafe paths."""
    _, rows = catalog_header_and_rows()
    folder = tmp_path / "shop"
    (folder / "photos" / "2024").mkdir(parents=True)
    for row in rows[:3]:
        shutil.copyfile(SHARED_CATALOG / "images" / f"{row[0]}.jpg", folder / "photos" / "2024" / f"p{row[0]}.jpg")
    (tmp_path / "outside.jpg").write_bytes((SHARED_CATALOG / "images" / f"{rows[0][0]}.jpg").read_bytes())
    (folder / "photos" / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    header = ["SKU", "Title", "Image Path", "Colour", "Article Type", "Year", "Material", "Fit"]
    body = [
        [f"A-{rows[0][0]}", "Linen shirt", f"photos/2024/p{rows[0][0]}.jpg", "White", "Shirts", "2019", "Linen", ""],
        [f"A-{rows[1][0]}", "Wool coat", f"photos/2024/p{rows[1][0]}.jpg", "Grey", "Coats", "", "Wool", "Slim"],
        [f"A-{rows[2][0]}", "Same photo", f"photos/2024/p{rows[0][0]}.jpg", "White", "Shirts", "2020", "", ""],
        ["A-4", "Absolute", "/etc/passwd", "", "", "", "", ""],
        ["A-5", "Dot dot", "../outside.jpg", "", "", "", "", ""],
        ["A-6", "Symlink", "photos/link.jpg", "", "", "", "", ""],
        ["A-7", "URL", "https://example.com/a.jpg", "", "", "", "", ""],
        ["A-8", "No photo", "", "Black", "", "", "", ""],
    ]
    return write_csv(folder / "products.csv", header, body)


def test_generic_layout_maps_fields_and_attributes(generic_csv, scheduled):
    report = catalog_import(csv_path=generic_csv)

    assert report.layout == "generic" and (report.created, report.failed) == (8, 0)
    shirt = Product.objects.get(external_id=f"A-{catalog_header_and_rows()[1][0][0]}")
    assert (shirt.name, shirt.base_colour, shirt.article_type, shirt.year) == ("Linen shirt", "White", "Shirts", 2019)
    assert shirt.attributes == {"Material": "Linen"}
    coat = Product.objects.get(name="Wool coat")
    assert coat.attributes == {"Material": "Wool", "Fit": "Slim"} and coat.year is None
    # Same bytes for two products: one stored file, two image rows.
    same = ProductImage.objects.filter(product__name__in=["Linen shirt", "Same photo"])
    assert len({i.file.name for i in same}) == 1 and len({i.content_hash for i in same}) == 1
    refused = dict(
        ProductImage.objects.filter(embedding_status=EmbeddingStatus.FAILED).values_list(
            "product__name", "embedding_error"
        )
    )
    assert "absolute path" in refused["Absolute"]
    assert "outside the catalog folder" in refused["Dot dot"]
    assert "symbolic link" in refused["Symlink"]
    assert "is a URL" in refused["URL"]
    assert not Product.objects.get(name="No photo").images.exists()
    assert {p.line for p in report.problems if p.level == "error"} == {5, 6, 7, 8}


def test_generic_attribute_change_updates_attributes(generic_csv, scheduled):
    catalog_import(csv_path=generic_csv)
    text = generic_csv.read_text().replace("Wool,Slim", "Cashmere,Slim")
    generic_csv.write_text(text)

    report = catalog_import(csv_path=generic_csv)

    assert (report.updated, report.unchanged) == (1, 7)
    assert Product.objects.get(name="Wool coat").attributes == {"Material": "Cashmere", "Fit": "Slim"}


def test_too_long_values_fail_their_row_only_and_cp1252_is_read(tmp_path, scheduled):
    csv_path = tmp_path / "export.csv"
    rows = ["id,name,colour", f"1,{'x' * 300},Red", "2,Café crème,Beige", f"{'9' * 65},Long id,Red"]
    csv_path.write_bytes("\n".join(rows).encode("cp1252"))

    report = catalog_import(csv_path=csv_path)

    assert (report.created, report.failed) == (1, 2)
    assert Product.objects.get().name == "Café crème"
    reasons = [(p.line, p.field, p.reason) for p in report.problems]
    note = "read as Windows-1252 (cp1252): not valid UTF-8 at byte 327 (0xE9, line 3)"
    assert (None, "encoding", note) in reasons
    assert (2, "name", "300 characters, at most 255") in reasons
    assert (4, "id", "id longer than 64 characters") in reasons


SPREADSHEET_NAMES = ["Men’s “Classic” Tee – €25", "Café crème…", "Œuvre ‰ Straße"]


def _c1(text: str) -> list[str]:
    return [c for c in text if 0x80 <= ord(c) <= 0x9F]


def test_a_windows_1252_csv_is_detected_and_its_names_keep_their_punctuation(tmp_path, scheduled):
    csv_path = tmp_path / "excel.csv"
    lines = ["id,name,colour"] + [f"W-{i},{name},Red" for i, name in enumerate(SPREADSHEET_NAMES)]
    data = "\r\n".join(lines).encode("cp1252")
    assert data.find(b"\x92") == 23  # the right single quote: bytes 0x80-0x9F that Latin-1 reads as C1 controls
    csv_path.write_bytes(data)

    report = catalog_import(csv_path=csv_path)

    assert report.created == 3
    names = list(Product.objects.order_by("external_id").values_list("name", flat=True))
    assert names == SPREADSHEET_NAMES and not _c1("".join(names))
    assert [(p.field, p.reason, p.level) for p in report.problems] == [
        ("encoding", "read as Windows-1252 (cp1252): not valid UTF-8 at byte 23 (0x92, line 2)", "warning")
    ]


def test_a_csv_in_neither_utf8_nor_windows_1252_is_refused_with_the_byte_and_line(tmp_path, scheduled):
    csv_path = tmp_path / "other.csv"
    # Line 3 holds 0x81, undefined in Windows-1252 (it occurs in Shift-JIS, GBK, and Cyrillic code pages).
    csv_path.write_bytes(b"id,name\n1,Caf\xe9\n2,\x81\x40 odd\n")

    with pytest.raises(CatalogFileError) as refused:
        catalog_import(csv_path=csv_path)

    assert str(refused.value) == (
        "not valid UTF-8 at byte 13 (0xE9, line 2), and not Windows-1252 either: byte 17 (0x81, line 3) is "
        "undefined there. Save the file as UTF-8 (in Excel: CSV UTF-8)"
    )
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("encoding", "note"),
    [
        ("utf-8", None),
        ("utf-8-sig", None),
        ("utf-16", "read as UTF-16 (the file starts with its byte order mark)"),
    ],
)
def test_utf8_with_or_without_bom_and_utf16_with_bom_are_read(tmp_path, scheduled, encoding, note):
    csv_path = tmp_path / "unicode.csv"
    lines = ["id,name,colour"] + [f"U-{i},{name},Red" for i, name in enumerate([*SPREADSHEET_NAMES, "Ünïcødé 靴"])]
    csv_path.write_bytes("\n".join(lines).encode(encoding))

    report = catalog_import(csv_path=csv_path)

    assert report.created == 4
    assert list(Product.objects.order_by("external_id").values_list("name", flat=True)) == [
        *SPREADSHEET_NAMES,
        "Ünïcødé 靴",
    ]
    assert [p.reason for p in report.problems if p.field == "encoding"] == ([note] if note else [])
