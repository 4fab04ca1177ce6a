"""Safe extraction of an uploaded zip of photos: size and count limits, no zip-slip, no links, per-job folder."""

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

from catalog.services.report import ImportReport, Problem

# A catalog zip holds photos: at most this many entries and this many bytes once extracted (settings can raise them).
MAX_ZIP_ENTRIES = 200_000
MAX_ZIP_TOTAL_BYTES = 20 * 1024**3
COPY_CHUNK = 1024 * 1024


class ZipRefused(Exception):
    """The zip as a whole cannot be used (not a zip, too many entries, too big)."""


def _safe_name(name: str) -> PurePosixPath | None:
    """The entry's relative path, or None if it is absolute or climbs out ('..', drive letters)."""
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if path.is_absolute() or ".." in path.parts or (len(normalised) > 1 and normalised[1] == ":"):
        return None
    return path


def zip_extract(*, zip_path: Path, destination: Path, report: ImportReport) -> int:
    """Extract photos into `destination`; unsafe or oversized entries are skipped and reported. Returns the count."""
    max_entries = getattr(settings, "LOOKAWAY_MAX_ZIP_ENTRIES", MAX_ZIP_ENTRIES)
    max_total = getattr(settings, "LOOKAWAY_MAX_ZIP_BYTES", MAX_ZIP_TOTAL_BYTES)
    max_entry = settings.LOOKAWAY_MAX_IMAGE_BYTES
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ZipRefused(f"not a readable zip file: {exc}") from exc
    destination = destination.resolve()
    extracted = total = 0
    with archive:
        entries = archive.infolist()
        if len(entries) > max_entries:
            raise ZipRefused(f"{len(entries):,} entries, more than the limit of {max_entries:,}")
        for info in entries:
            if info.is_dir():
                continue
            where = {"line": None, "field": "zip", "external_id": ""}
            relative = _safe_name(info.filename)
            if relative is None:
                report.add(Problem(reason=f"entry {info.filename!r} points outside the folder: skipped", **where))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                report.add(Problem(reason=f"entry {info.filename!r} is a symbolic link: skipped", **where))
                continue
            if info.file_size > max_entry:
                reason = f"entry {info.filename!r} is {info.file_size:,} bytes, over the image limit: skipped"
                report.add(Problem(reason=reason, **where))
                continue
            total += info.file_size
            if total > max_total:
                raise ZipRefused(f"more than {max_total:,} bytes once extracted")
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, target.open("wb") as sink:
                    # The declared size can lie: copy at most one byte more than the limit, then give up.
                    copied = 0
                    while chunk := source.read(COPY_CHUNK):
                        copied += len(chunk)
                        if copied > max_entry:
                            raise ZipRefused(f"entry {info.filename!r} is larger than it declares")
                        sink.write(chunk)
            except (ZipRefused, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                target.unlink(missing_ok=True)
                report.add(Problem(reason=f"entry {info.filename!r} cannot be read: {exc}", **where))
                continue
            extracted += 1
    return extracted


def zip_images_root(*, folder: Path) -> Path:
    """Where the photos start inside an extracted zip: a single top-level folder holding everything is skipped."""
    children = [c for c in folder.iterdir() if c.name != "__MACOSX"]
    if len(children) == 1 and children[0].is_dir() and children[0].name != "images":
        return children[0]
    return folder


def folder_remove(*, folder: Path) -> None:
    """Delete a temporary extraction folder."""
    shutil.rmtree(folder, ignore_errors=True)
