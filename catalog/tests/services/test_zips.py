"""Safe zip extraction: zip-slip, absolute names, symbolic links, oversized and lying entries, limits."""

import errno
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


def _extract(tmp_path: Path, archive: Path) -> tuple[int, ImportReport, Path]:
    report = ImportReport()
    out = tmp_path / "out"
    out.mkdir()
    return zip_extract(zip_path=archive, destination=out, report=report), report, out


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_entry_longer_than_declared_stops_at_the_declared_size_and_leaves_nothing(tmp_path, settings):
    # zipfile itself reads at most the declared size and then checks the CRC (so zips.py needs no copy limit of its
    # own): the lying entry fails after 10 bytes, and the half-written file must be removed.
    settings.LOOKAWAY_MAX_IMAGE_BYTES = 1000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.jpg", b"\0" * 5000)
        archive.writestr("ok.jpg", b"fine")
    data = bytearray(buffer.getvalue())
    # Patch the declared uncompressed size (local header and central directory) of bomb.jpg down to 10 bytes.
    for offset in (data.find(b"PK\x03\x04") + 22, data.find(b"PK\x01\x02") + 24):
        data[offset : offset + 4] = (10).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(bytes(data))

    count, report, out = _extract(tmp_path, tmp_path / "liar.zip")

    assert count == 1 and _files(out) == ["ok.jpg"]
    assert [p.reason for p in report.problems] == [
        "entry 'bomb.jpg' cannot be extracted: Bad CRC-32 for file 'bomb.jpg': skipped"
    ]


@pytest.mark.parametrize("file_first", [True, False], ids=["file-then-folder", "folder-then-file"])
def test_a_file_and_a_folder_of_the_same_name_skip_one_entry_and_keep_the_rest(tmp_path, file_first):
    clash = ["images/a.jpg", "images/a.jpg/b.jpg"]
    entries = {"images/1.jpg": b"one", **{name: b"x" for name in (clash if file_first else clash[::-1])}}
    entries["images/2.jpg"] = b"two"

    count, report, out = _extract(tmp_path, _zip(tmp_path / "clash.zip", entries))

    skipped = clash[1] if file_first else clash[0]
    kept = clash[0] if file_first else clash[1]
    assert count == 3 and _files(out) == sorted(["images/1.jpg", "images/2.jpg", kept])
    assert [(p.line, p.field, p.reason) for p in report.problems] == [
        (
            None,
            "zip",
            f"entry {skipped!r} cannot be extracted: another entry has the same name as a file and as a folder: "
            "skipped",
        )
    ]


def test_names_too_long_for_the_file_system_are_reported_shortened(tmp_path):
    long_file = "images/" + "x" * 300 + ".jpg"  # one 304-byte name
    long_folder = "images/" + "d" * 300 + "/b.jpg"  # a 300-byte folder name
    accented = "images/" + "é" * 130 + ".jpg"  # 134 characters but 264 bytes in UTF-8
    entries = {long_file: b"x", "images/ok.jpg": b"ok", long_folder: b"x", accented: b"x"}

    count, report, out = _extract(tmp_path, _zip(tmp_path / "long.zip", entries))

    assert count == 1 and _files(out) == ["images/ok.jpg"]
    reasons = [p.reason for p in report.problems]
    assert len(reasons) == 3
    for reason, name in zip(reasons, [long_file, long_folder, accented], strict=True):
        assert reason.endswith(
            "cannot be extracted: name too long for the file system (at most 255 bytes per folder or file name): "
            "skipped"
        )
        shown = reason.split("'")[1]
        assert len(shown) == 100 and "…" in shown and name.startswith(shown.split("…")[0])
        assert name.endswith(shown.split("…")[1])


def test_encrypted_and_unsupported_entries_are_reported_and_the_rest_extracted(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("secret.jpg", b"s")
        archive.writestr("odd.jpg", b"o")
        archive.writestr("ok.jpg", b"ok")
    data = bytearray(buffer.getvalue())
    central = [i for i in range(len(data)) if data[i : i + 4] == b"PK\x01\x02"]
    data[central[0] + 8] |= 0x01  # general purpose flag bit 0: encrypted
    data[central[1] + 10 : central[1] + 12] = (99).to_bytes(2, "little")  # compression method 99 (AES)
    (tmp_path / "odd.zip").write_bytes(bytes(data))

    count, report, out = _extract(tmp_path, tmp_path / "odd.zip")

    assert count == 1 and _files(out) == ["ok.jpg"]
    reasons = [p.reason for p in report.problems]
    assert reasons == [
        "entry 'secret.jpg' cannot be extracted: it is encrypted (password-protected entries are not supported): "
        "skipped",
        "entry 'odd.jpg' cannot be extracted: That compression method is not supported: skipped",
    ]


def test_any_file_system_error_on_one_entry_is_reported(tmp_path, monkeypatch):
    real_open = Path.open

    def open_failing(self, mode="r", *args, **kwargs):
        if self.name == "full.jpg" and "w" in mode:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_failing)
    count, report, out = _extract(tmp_path, _zip(tmp_path / "z.zip", {"full.jpg": b"x", "ok.jpg": b"ok"}))

    assert count == 1 and _files(out) == ["ok.jpg"]
    assert report.problems[0].reason == "entry 'full.jpg' cannot be extracted: No space left on device: skipped"
