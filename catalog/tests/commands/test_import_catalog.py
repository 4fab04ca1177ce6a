"""manage.py import_catalog: folder or CSV path, summary line, problems with line numbers, exit codes."""

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product

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
