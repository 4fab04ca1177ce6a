"""Safe zip extraction: zip-slip, absolute names, symbolic links, oversized and lying entries, limits."""

import io
import stat
import zipfile
from pathlib import Path

import pytest

from catalog.services.report import ImportReport
from catalog.services.zips import ZipRefused, zip_extract, zip_images_root


def _zip(path: Path, entries: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def test_unsafe_entries_are_skipped_and_reported(tmp_path, settings):
    settings.LOOKAWAY_MAX_IMAGE_BYTES = 100
    archive = _zip(
        tmp_path / "photos.zip",
        {
            "shop/images/1.jpg": b"ok",
            "shop/../../escape.jpg": b"x",
            "/etc/cron.d/evil": b"x",
            "C:/windows/evil.jpg": b"x",
            "shop/images/big.jpg": b"y" * 101,
        },
        links={"shop/images/link.jpg": "/etc/passwd"},
    )
    report = ImportReport()
    destination = tmp_path / "out"
    destination.mkdir()

    assert zip_extract(zip_path=archive, destination=destination, report=report) == 1
    reasons = " | ".join(p.reason for p in report.problems)
    assert reasons.count("points outside the folder") == 3
    assert "'shop/images/link.jpg' is a symbolic link" in reasons and "'shop/images/big.jpg' is 101 bytes" in reasons
    assert sorted(str(p.relative_to(destination)) for p in destination.rglob("*") if p.is_file()) == [
        "shop/images/1.jpg"
    ]
    assert not (tmp_path / "escape.jpg").exists()
    assert zip_images_root(folder=destination) == destination / "shop"


def test_whole_zip_refusals(tmp_path, settings):
    (tmp_path / "fake.zip").write_bytes(b"not a zip")
    with pytest.raises(ZipRefused, match="not a readable zip"):
        zip_extract(zip_path=tmp_path / "fake.zip", destination=tmp_path, report=ImportReport())
    settings.LOOKAWAY_MAX_ZIP_ENTRIES = 2
    many = _zip(tmp_path / "many.zip", {f"{i}.jpg": b"x" for i in range(3)})
    with pytest.raises(ZipRefused, match="3 entries"):
        zip_extract(zip_path=many, destination=tmp_path, report=ImportReport())


def test_entry_larger_than_declared_is_dropped(tmp_path, settings):
    settings.LOOKAWAY_MAX_IMAGE_BYTES = 1000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.jpg", b"\0" * 5000)
    data = bytearray(buffer.getvalue())
    # Patch the declared uncompressed size (local header and central directory) down to 10 bytes.
    for offset in (data.find(b"PK\x03\x04") + 22, data.find(b"PK\x01\x02") + 24):
        data[offset : offset + 4] = (10).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(bytes(data))
    report = ImportReport()
    out = tmp_path / "out"
    out.mkdir()
    assert zip_extract(zip_path=tmp_path / "liar.zip", destination=out, report=report) == 0
    assert not (out / "bomb.jpg").exists() and "cannot be read" in report.problems[0].reason
