"""Product photos: safe path resolution, cheap validation, conversion to RGB and content-addressed storage."""

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

# Formats stored as uploaded when already 8-bit RGB; anything else is re-encoded as JPEG.
KEPT_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONVERTED_JPEG_QUALITY = 95
# Decoding at 1/2..1/8 scale (JPEG DCT scaling) still walks the whole file, so truncation is caught cheaply.
DRAFT_ABOVE_PIXELS = 1024 * 1024
# Transparent areas become the studio background of the catalog photos.
BACKGROUND = (255, 255, 255)


class ImageRefused(Exception):
    """The file cannot be used as a product photo; the message says why."""


@dataclass(frozen=True)
class CheckedImage:
    """A usable photo: the bytes to store, their extension, size and any conversion note."""

    data: bytes
    extension: str
    width: int
    height: int
    note: str = ""


def image_path_resolve(*, root: Path, relative: str) -> Path:
    """The file for `relative` inside `root`; ImageRefused for absolute paths, '..' or symlinks leading outside."""
    value = relative.strip().replace("\\", "/")
    if "://" in value:
        raise ImageRefused(f"{relative!r} is a URL: images are read from the catalog folder or zip, not downloaded")
    pure = PurePosixPath(value)
    if pure.is_absolute() or (len(value) > 1 and value[1] == ":"):
        raise ImageRefused(f"{relative!r} is an absolute path: give a path inside the catalog folder")
    if ".." in pure.parts:
        raise ImageRefused(f"{relative!r} points outside the catalog folder")
    base = Path(root).resolve()
    try:
        path = (base / pure).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: pathlib's "Symlink loop" (Python < 3.13)
        raise ImageRefused(f"{relative!r} cannot be resolved (symbolic link loop?): {exc}") from None
    if not path.is_relative_to(base):
        raise ImageRefused(f"{relative!r} leads outside the catalog folder (symbolic link)")
    return path


def image_read(*, path: Path) -> bytes:
    """The file's bytes after the size checks (empty, over LOOKAWAY_MAX_IMAGE_BYTES): never reads a huge file."""
    size = path.stat().st_size
    if size == 0:
        raise ImageRefused("empty file (0 bytes)")
    limit = settings.LOOKAWAY_MAX_IMAGE_BYTES
    if size > limit:
        raise ImageRefused(f"file is {size:,} bytes, over the limit of {limit:,} (LOOKAWAY_MAX_IMAGE_BYTES)")
    return path.read_bytes()


def content_hash(data: bytes) -> str:
    """SHA-256 of the bytes, hex."""
    return hashlib.sha256(data).hexdigest()


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str]:
    """An 8-bit RGB copy of a decoded image and a note saying what was converted."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or pixels.max() > 255 else 255.0
        grey = np.clip(np.rint(pixels * (255.0 / top)), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB"), f"converted {mode} (16-bit/integer) greyscale to 8-bit RGB"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        note = "converted palette image to RGB"
        if image.mode == "RGB":
            return image, note
        return _flatten(image), note + " (transparency flattened on white)"
    if mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        return _flatten(image.convert("RGBA")), f"converted {mode} to RGB (transparency flattened on white)"
    return image.convert("RGB"), f"converted {mode} to RGB"


def _flatten(image: Image.Image) -> Image.Image:
    background = Image.new("RGB", image.size, BACKGROUND)
    background.paste(image, mask=image.getchannel("A"))
    return background


def image_check(*, data: bytes) -> CheckedImage:
    """Validate the bytes as an image (header size before decoding, full decode) and convert to 8-bit RGB if needed."""
    max_pixels = settings.LOOKAWAY_MAX_IMAGE_PIXELS
    # The declared size is checked against our own limit right after the header is parsed. (warnings.catch_warnings
    # is not thread-safe, so Pillow's DecompressionBombWarning is not turned into an error here; its
    # DecompressionBombError, raised above twice Pillow's limit while parsing the header, is caught.)
    source_format = None
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRefused(
                f"declared size {width}x{height} = {width * height:,} pixels is over the limit of "
                f"{max_pixels:,} (LOOKAWAY_MAX_IMAGE_PIXELS): not decoded (decompression bomb?)"
            )
        if width == 0 or height == 0:
            raise ImageRefused(f"declared size {width}x{height} has no pixels")
        source_format, mode = image.format, image.mode
        keep = mode == "RGB" and source_format in KEPT_FORMATS
        if keep and width * height > DRAFT_ABOVE_PIXELS:
            image.draft("RGB", (width // 4, height // 4))
        image.load()
    except ImageRefused:
        raise
    except UnidentifiedImageError:
        raise ImageRefused("not an image (Pillow cannot identify the format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(f"decompression bomb refused before decoding: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRefused(f"corrupt or truncated {source_format or 'image'}: {exc}") from None
    if keep:
        return CheckedImage(data, KEPT_FORMATS[source_format], width, height)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    try:
        rgb, note = _to_rgb(image)
    except (OSError, ValueError) as exc:
        raise ImageRefused(f"{source_format} image in mode {mode} cannot be converted to RGB: {exc}") from None
    if source_format not in KEPT_FORMATS:
        note = f"{note} (from {source_format})" if mode != "RGB" else f"converted {source_format} to JPEG"
    buffer = io.BytesIO()
    rgb.save(buffer, "JPEG", quality=CONVERTED_JPEG_QUALITY)
    return CheckedImage(buffer.getvalue(), "jpg", width, height, note)


def image_store(*, data: bytes, source_hash: str, extension: str) -> str:
    """Save under a name derived from the source hash; identical files are written once. Returns the storage name."""
    name = f"products/{source_hash[:2]}/{source_hash}.{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # another thread or process stored the same bytes meanwhile: keep one copy
            default_storage.delete(saved)
    return name
