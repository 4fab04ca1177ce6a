"""Safe extraction of an uploaded zip of photos: size and count limits, no zip-slip, no links, per-job folder."""

import errno
import lzma
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from django.conf import settings

from catalog.services.report import ImportReport, Problem, shorten

# A catalog zip holds photos: at most this many entries and this many bytes once extracted (settings can raise them).
MAX_ZIP_ENTRIES = 200_000
MAX_ZIP_TOTAL_BYTES = 20 * 1024**3
COPY_CHUNK = 1024 * 1024
# Linux filesystems (ext4, xfs, tmpfs) allow at most this many bytes per folder or file name (ENAMETOOLONG beyond).
NAME_MAX_BYTES = 255
# What one entry can raise while it is extracted: the file system (name clash, name too long, disk full), a corrupt
# or lying entry (bad CRC, truncated data), an encrypted entry (RuntimeError) or an unsupported compression method.
ENTRY_ERRORS = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    lzma.LZMAError,
)


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
    """Extract photos into `destination`; unsafe, oversized or unextractable entries are skipped and reported.

    Returns the number of files extracted; ZipRefused only for the whole zip (unreadable, too many entries, too big).
    """
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
            shown = shorten(info.filename)
            relative = _safe_name(info.filename)
            if relative is None:
                report.add(Problem(reason=f"entry {shown!r} points outside the folder: skipped", **where))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                report.add(Problem(reason=f"entry {shown!r} is a symbolic link: skipped", **where))
                continue
            if info.file_size > max_entry:
                reason = f"entry {shown!r} is {info.file_size:,} bytes, over the image limit: skipped"
                report.add(Problem(reason=reason, **where))
                continue
            total += info.file_size
            if total > max_total:
                raise ZipRefused(f"more than {max_total:,} bytes once extracted")
            try:
                _extract_entry(archive, info, destination / relative)
            except ENTRY_ERRORS as exc:
                report.add(
                    Problem(reason=f"entry {shown!r} cannot be extracted: {_entry_error(exc)}: skipped", **where)
                )
                continue
            extracted += 1
    return extracted


def _extract_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one entry to `target`; on any error nothing of it is left behind.

    zipfile reads at most the declared `file_size` (checked against the limit before) and then checks the CRC, so an
    entry whose data is longer than it declares ends in BadZipFile after `file_size` bytes, never a bigger file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with archive.open(info) as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink, COPY_CHUNK)
    except BaseException:
        _remove_partial(target)
        raise


def _remove_partial(target: Path) -> None:
    """Delete a half-written entry; a folder of the same name (a clash) or an unusable name is left alone."""
    try:
        if target.is_file():
            target.unlink()
    except OSError:
        pass


def _entry_error(exc: BaseException) -> str:
    """Why one entry could not be extracted, in words."""
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return f"name too long for the file system (at most {NAME_MAX_BYTES} bytes per folder or file name)"
    if isinstance(exc, OSError) and exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        return "another entry has the same name as a file and as a folder"
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        return "it is encrypted (password-protected entries are not supported)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def zip_images_root(*, folder: Path) -> Path:
    """Where the photos start inside an extracted zip: a single top-level folder holding everything is skipped."""
    children = [c for c in folder.iterdir() if c.name != "__MACOSX"]
    if len(children) == 1 and children[0].is_dir() and children[0].name != "images":
        return children[0]
    return folder


def folder_remove(*, folder: Path) -> None:
    """Delete a temporary extraction folder."""
    shutil.rmtree(folder, ignore_errors=True)
