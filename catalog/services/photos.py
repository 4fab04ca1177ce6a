"""What a row's photo should look like in the database: path checks, hashing, validation and storage combined."""

from pathlib import Path

from catalog.models import EmbeddingStatus, ProductImage
from catalog.services.csv_rows import CatalogRow
from catalog.services.images import (
    ImageRefused,
    content_hash,
    image_check,
    image_path_resolve,
    image_read,
    image_store,
)
from catalog.services.report import Problem, shorten

MAX_SOURCE_NAME = ProductImage._meta.get_field("source_name").max_length
MAX_NOTE = ProductImage._meta.get_field("import_note").max_length

PhotoValues = tuple[dict | None, list[Problem]]


class _Refused(Exception):
    """The row's photo cannot be used: reason, and the size and hash when the file could be read."""

    def __init__(self, reason: str, size: int | None = None, digest: str = "") -> None:
        super().__init__(reason)
        self.reason, self.size, self.digest = reason, size, digest


def _is_file(path: Path) -> bool:
    """Whether `path` is a regular file; a name the file system cannot hold (ENAMETOOLONG, ...) is no file."""
    try:
        return path.is_file()
    except OSError:
        return False


def _locate(row: CatalogRow, root: Path) -> Path | None:
    """The photo's file inside `root`, None when it does not exist; _Refused for unsafe paths."""
    if len(row.image) > MAX_SOURCE_NAME:
        raise _Refused(f"image path longer than {MAX_SOURCE_NAME} characters")
    try:
        path = image_path_resolve(root=root, relative=row.image)
        if not _is_file(path) and row.image_derived:
            flat = f"{row.external_id}.jpg"  # a zip of photos without the images/ folder
            path = image_path_resolve(root=root, relative=flat) if _is_file(root / flat) else path
    except ImageRefused as exc:
        raise _Refused(str(exc)) from None
    return path if _is_file(path) else None


def _read(path: Path) -> bytes:
    try:
        return image_read(path=path)
    except ImageRefused as exc:
        raise _Refused(str(exc), size=path.stat().st_size) from None
    except OSError as exc:
        raise _Refused(f"cannot read the file: {exc.strerror or exc}") from None


def _stored(row: CatalogRow, data: bytes, digest: str) -> tuple[dict, str]:
    """Check, convert and store a new photo: its field values and the conversion note."""
    try:
        checked = image_check(data=data)
    except ImageRefused as exc:
        raise _Refused(str(exc), size=len(data), digest=digest) from None
    values = {
        "source_name": row.image,
        "file": image_store(data=checked.data, source_hash=digest, extension=checked.extension),
        "content_hash": digest,
        "width": checked.width,
        "height": checked.height,
        "bytes": len(checked.data),
        "import_note": checked.note[:MAX_NOTE],
        "embedding_status": EmbeddingStatus.PENDING,
        "embedding_error": "",
        "embedded_with": "",
        "embedded_at": None,
    }
    return values, checked.note


def photo_values(*, row: CatalogRow, root: Path, current: ProductImage | None) -> PhotoValues:
    """The ProductImage field values this row asks for (None: leave the stored photo as it is) and its problems."""
    where = {"line": row.line, "field": "image", "external_id": row.external_id}
    if not row.image:
        return None, []
    has_photo = current is not None and bool(current.file)
    try:
        path = _locate(row, root)
        if path is None:
            kept = ": the stored photo is kept" if current is not None else ""
            return None, [Problem(reason=f"no image file {shorten(row.image)}{kept}", level="warning", **where)]
        data = _read(path)
        digest = content_hash(data)
        if has_photo and current.content_hash == digest:
            # Same bytes as last time: no decode, no copy, no re-embedding (a renamed file only updates source_name).
            # A photo refused last time is checked again (limits may have changed): same verdict, same fields.
            return {"source_name": row.image}, []
        values, note = _stored(row, data, digest)
    except _Refused as refused:
        if has_photo:  # a bad new file never replaces a good stored photo
            return None, [Problem(reason=f"{refused.reason}: the stored photo is kept", **where)]
        return _failed_values(row.image, refused), [Problem(reason=refused.reason, **where)]
    return values, [Problem(reason=note, level="warning", **where)] if note else []


def _failed_values(source: str, refused: _Refused) -> dict:
    return {
        "source_name": source[:MAX_SOURCE_NAME],
        "file": "",
        "content_hash": refused.digest,
        "width": None,
        "height": None,
        "bytes": refused.size,
        "import_note": "",
        "embedding_status": EmbeddingStatus.FAILED,
        "embedding_error": refused.reason,
        "embedded_with": "",
        "embedded_at": None,
    }
