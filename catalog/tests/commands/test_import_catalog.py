"""manage.py import_catalog: folder or CSV path, summary line, problems with line numbers, exit codes."""

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product
from catalog.tests.conftest import SHARED_CATALOG

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import_catalog", *map(str, args), stdout=out, stderr=err)
    return out.getvalue()


def test_imports_a_folder_and_reports_problems(sample_catalog, scheduled):
    with (sample_catalog / "styles.csv").open("a") as handle:
        handle.write("99,Men,Apparel\n")
    output = _run(sample_catalog, "--limit", 150, "--batch-size", 40)
    assert Product.objects.count() == 150
    assert "line 202" not in output  # beyond the limit
    assert "created 150, updated 0, unchanged 0, skipped 0, failed 0" in output

    output = _run(sample_catalog / "styles.csv")
    assert "created 50, updated 0, unchanged 150, skipped 0, failed 1" in output
    assert "line 202, row: 3 columns instead of 10 [error]" in output


def test_deactivate_missing_and_no_embed(sample_catalog, sample_rows, scheduled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _run(sample_catalog, "--no-embed")
    assert scheduled == []
    Product.objects.create(external_id="gone", name="Not in the file")
    output = _run(sample_catalog, "--deactivate-missing")
    assert "deactivated 1" in output and not Product.objects.get(external_id="gone").is_active


def test_unreadable_input_exits_non_zero(tmp_path):
    with pytest.raises(CommandError, match="not found"):
        call_command("import_catalog", str(tmp_path))
    (tmp_path / "styles.csv").write_bytes(b"")
    with pytest.raises(CommandError, match="nothing imported: the file is empty"):
        call_command("import_catalog", str(tmp_path))
    with pytest.raises(CommandError, match="cannot be combined with --limit"):
        call_command("import_catalog", str(tmp_path), "--limit", "3", "--deactivate-missing")


def test_photo_names_the_file_system_cannot_hold_are_missing_photos(tmp_path, scheduled):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "ok.jpg").write_bytes((SHARED_CATALOG / "images" / "15970.jpg").read_bytes())
    too_long = "images/" + "é" * 130 + ".jpg"  # 134 characters (fits the field) but a 264-byte file name
    (tmp_path / "products.csv").write_text(
        f"id,name,image\nL-1,Long name,{too_long}\nL-2,Ok,images/ok.jpg\n", encoding="utf-8"
    )
    output = _run(tmp_path / "products.csv")
    assert "created 2, updated 0, unchanged 0, skipped 0, failed 0" in output
    assert "line 2 (id L-1), image: no image file images/éééé" in output
    assert set(Product.objects.filter(images__file__gt="").values_list("external_id", flat=True)) == {"L-2"}
