"""Decode, validate, scale and store region masks painted by shoppers (plain Python: numpy + Pillow, no Django).

Two encodings are accepted, both in the coordinates of the image as DISPLAYED to the shopper (width x height):

- a PNG data URL, ``data:image/png;base64,...`` whose pixel size must equal the declared width and height.
  Painted pixels: alpha > 0 when the PNG has an alpha channel (RGBA, LA, or a palette with transparency),
  otherwise any pixel that is not pure black (grey level > 0).
- run-length encoding, a list of non-negative integer counts alternating unpainted / painted, starting with
  unpainted (so a mask starting with painted pixels begins with 0), over the pixels in row-major order; the
  counts must sum to width * height.

The decoded mask is scaled to the seed image's own pixel size with nearest-neighbour sampling.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

MAX_SIDE = 4096  # largest accepted displayed width or height, in pixels
MAX_PAYLOAD_BYTES = 2 * 1024 * 1024  # largest accepted data URL / RLE list (characters or entries)
ASPECT_TOLERANCE = 0.1  # relative difference allowed between displayed and image aspect ratios (plus 1 px rounding)
PNG_PREFIX = "data:image/png;base64,"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PAINT_RGBA = (239, 68, 68, 255)  # colour of the painted area in stored-mask PNGs


class MaskError(ValueError):
    """A mask that cannot be used, with the request field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def mask_decode(
    *,
    mask: str | None = None,
    rle: Sequence[int] | None = None,
    width: object,
    height: object,
    image_size: tuple[int, int],
) -> np.ndarray:
    """Decode a PNG data URL or RLE mask drawn at width x height and scale it to image_size (W, H): bool (H, W)."""
    width = _check_side("width", width)
    height = _check_side("height", height)
    _check_aspect(width, height, image_size)
    if (mask is None) == (rle is None):
        raise MaskError("mask", "Send exactly one of `mask` (PNG data URL) or `rle` (run-length counts).")
    painted = _decode_png(mask, width, height) if mask is not None else _decode_rle(rle, width, height)
    field = "mask" if mask is not None else "rle"
    _check_coverage(painted, field)
    scaled = mask_scale(painted, image_size)
    if not scaled.any():
        raise MaskError(field, "The painted area is too thin to cover any pixel of the seed image.")
    if scaled.all():
        raise MaskError(field, "The mask covers the whole image; paint only the part you don't like.")
    return scaled


def mask_scale(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a bool (H, W) mask to size (W, H) by nearest neighbour (pixel centres)."""
    target_w, target_h = size
    src_h, src_w = mask.shape
    rows = np.minimum(((np.arange(target_h) + 0.5) * src_h / target_h).astype(np.int64), src_h - 1)
    cols = np.minimum(((np.arange(target_w) + 0.5) * src_w / target_w).astype(np.int64), src_w - 1)
    return mask[rows[:, None], cols[None, :]]


def mask_pack(mask: np.ndarray) -> tuple[bytes, int, int]:
    """Compact storage of a bool (H, W) mask: (packed bits, width, height)."""
    height, width = mask.shape
    return np.packbits(mask.astype(bool), axis=None).tobytes(), width, height


def mask_unpack(data: bytes, width: int, height: int) -> np.ndarray:
    """Inverse of mask_pack: bool (H, W)."""
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8), count=width * height)
    return bits.reshape(height, width).astype(bool)


def mask_to_png(mask: np.ndarray) -> bytes:
    """PNG of a mask: transparent background, painted pixels opaque (PAINT_RGBA)."""
    rgba = np.zeros((*mask.shape, 4), dtype=np.uint8)
    rgba[mask] = PAINT_RGBA
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _check_side(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MaskError(field, f"Must be an integer number of pixels, got {type(value).__name__}.")
    if not 1 <= value <= MAX_SIDE:
        raise MaskError(field, f"Must be between 1 and {MAX_SIDE} pixels, got {value}.")
    return value


def _check_aspect(width: int, height: int, image_size: tuple[int, int]) -> None:
    image_w, image_h = image_size
    # Allow one pixel of rounding on each displayed side, then ASPECT_TOLERANCE relative difference.
    lowest = max(width - 1, 1) / (height + 1)
    highest = (width + 1) / max(height - 1, 1)
    expected = image_w / image_h
    if not lowest * (1 - ASPECT_TOLERANCE) <= expected <= highest * (1 + ASPECT_TOLERANCE):
        raise MaskError(
            "width",
            f"The mask's {width}x{height} does not have the seed image's aspect ratio ({image_w}x{image_h}); "
            "send the size of the image as displayed.",
        )


def _decode_png(data_url: object, width: int, height: int) -> np.ndarray:
    if not isinstance(data_url, str):
        raise MaskError("mask", f"Must be a string (a PNG data URL), got {type(data_url).__name__}.")
    if len(data_url) > MAX_PAYLOAD_BYTES:
        raise MaskError("mask", f"Too large: at most {MAX_PAYLOAD_BYTES} characters.")
    if not data_url.startswith(PNG_PREFIX):
        raise MaskError("mask", f"Must be a PNG data URL starting with '{PNG_PREFIX}'.")
    try:
        raw = base64.b64decode(data_url[len(PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise MaskError("mask", "The base64 data after the data URL prefix is not valid base64.") from None
    if not raw.startswith(PNG_SIGNATURE):
        raise MaskError("mask", "The data is not a PNG image.")
    try:
        with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
            if image.size != (width, height):
                raise MaskError(
                    "mask", f"The PNG is {image.size[0]}x{image.size[1]} but width x height is {width}x{height}."
                )
            return _painted_pixels(image)
    except MaskError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise MaskError("mask", "The PNG image is corrupt or cannot be decoded.") from None


def _painted_pixels(image: Image.Image) -> np.ndarray:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        return np.asarray(image.convert("RGBA"))[:, :, 3] > 0
    return np.asarray(image.convert("L")) > 0


def _decode_rle(counts: object, width: int, height: int) -> np.ndarray:
    if not isinstance(counts, list | tuple):
        raise MaskError("rle", f"Must be a list of integer counts, got {type(counts).__name__}.")
    if len(counts) > min(MAX_PAYLOAD_BYTES, width * height + 1):
        raise MaskError("rle", f"Too many counts ({len(counts)}) for a {width}x{height} mask.")
    for index, count in enumerate(counts):
        if isinstance(count, bool) or not isinstance(count, int):
            raise MaskError("rle", f"Count {index} is not an integer: {count!r}.")
        if count < 0:
            raise MaskError("rle", f"Count {index} is negative: {count}.")
    total = sum(counts)
    if total != width * height:
        raise MaskError("rle", f"The counts sum to {total} but a {width}x{height} mask has {width * height} pixels.")
    values = np.arange(len(counts)) % 2 == 1  # even positions unpainted, odd positions painted
    return np.repeat(values, np.asarray(counts, dtype=np.int64)).reshape(height, width)


def _check_coverage(painted: np.ndarray, field: str) -> None:
    if not painted.any():
        raise MaskError(field, "The mask is empty: paint the part of the image you don't like.")
    if painted.all():
        raise MaskError(field, "The mask covers the whole image; paint only the part you don't like.")
