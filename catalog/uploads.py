"""Size limits of the admin import upload, enforced while the body streams in, before Django spools it to disk."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

# The whole request body of one import (CSV + zip + form fields). Keep the reverse proxy's limit (nginx
# client_max_body_size) at the same number: docs/OPERATIONS.md.
DEFAULT_MAX_UPLOAD_BYTES = 4300 * 1024**2


def upload_refused_by_length(*, request: HttpRequest, limit: int) -> str:
    """Why the declared body (Content-Length) is refused before a byte of it is read, or ''."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return ""  # Django itself reads such a body as empty
    if declared <= limit:
        return ""
    return (
        f"The upload is {declared:,} bytes, over the limit of {limit:,} bytes (LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES): "
        "nothing was read or stored."
    )


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of each file field and of all files; past a limit it stops the upload, `refused` says why.

    Installed first, it sees every chunk before the handlers that keep it in memory or write it to a temporary file,
    so at most `limit` bytes of an oversized file are ever stored; the rest of the body is read and dropped.
    """

    def __init__(self, request: HttpRequest, *, total_limit: int, field_limits: dict[str, tuple[str, int, str]]):
        super().__init__(request)
        self.total_limit = total_limit
        self.field_limits = field_limits  # field name -> (label, limit, setting name)
        self.total = self.in_field = 0
        self.refused = ""

    def new_file(self, field_name, *args, **kwargs) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.in_field = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.total += len(raw_data)
        self.in_field += len(raw_data)
        label, limit, setting = self.field_limits.get(self.field_name, ("The file", self.total_limit, ""))
        if self.in_field > limit:
            self._stop(f"{label} is larger than the limit of {limit:,} bytes ({setting})")
        if self.total > self.total_limit:
            self._stop(
                f"The files are larger than the limit of {self.total_limit:,} bytes (LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES)"
            )
        return raw_data

    def _stop(self, reason: str) -> None:
        self.refused = f"{reason}: the upload was stopped and nothing was stored."
        raise StopUpload(connection_reset=False)

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the uploaded file


def upload_limit_install(
    *, request: HttpRequest, field_limits: dict[str, tuple[str, int, str]]
) -> LimitedUploadHandler:
    """Put a LimitedUploadHandler in front of the request's upload handlers (before request.POST/FILES is read)."""
    handler = LimitedUploadHandler(request, total_limit=import_max_upload_bytes(), field_limits=field_limits)
    request.upload_handlers.insert(0, handler)
    return handler


def import_max_upload_bytes() -> int:
    """LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES: the largest request body of one import."""
    return getattr(settings, "LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)
