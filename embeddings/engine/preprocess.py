"""Robust image loading for real uploads, and the fit-to-square transform shared by images and masks."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ImageSource = str | os.PathLike | bytes | BinaryIO
WHITE = (255, 255, 255)
# Key under which load_image records the (orientation-corrected) size before any draft reduction.
ORIGINAL_SIZE_KEY = "lookaway_original_size"


class ImageDecodeError(ValueError):
    """An input could not be turned into an RGB image; `reason` says why in words a shop owner understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(source)
    except FileNotFoundError:
        raise ImageDecodeError(f"file not found: {source}") from None
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image (unrecognised file format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image too large ({exc})") from None
    except OSError as exc:
        raise ImageDecodeError(f"cannot read image: {exc}") from None


def _grey_to_8bit(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer and float greyscale to 8 bits (Pillow's own convert clips instead of scaling)."""
    values = np.asarray(image).astype(np.float64)
    if image.mode == "F":
        top = 1.0 if values.size and values.max() <= 1.0 else 255.0
    else:
        peak = float(values.max()) if values.size else 0.0
        top = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
    scaled = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(scaled)


def _to_rgb(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _grey_to_8bit(image).convert("RGB")
    if mode == "P" and "transparency" in image.info or mode in ("PA", "LA", "La", "RGBa"):
        image, mode = image.convert("RGBA"), "RGBA"
    if mode == "RGBA":
        canvas = Image.new("RGB", image.size, background)
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    if mode == "1":
        image = image.convert("L")
    return image.convert("RGB")


def load_image(
    source: ImageSource,
    *,
    draft_size: int | None = None,
    max_pixels: int | None = None,
    background: tuple[int, int, int] = WHITE,
) -> Image.Image:
    """Decode a path, bytes or binary file into an upright RGB image (EXIF orientation applied, alpha on white).

    draft_size: for JPEGs, let the decoder scale down by powers of two while keeping both sides >= draft_size.
    Raises ImageDecodeError with a readable reason on anything undecodable.
    """
    image = _open(source)
    try:
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageDecodeError("image has no pixels")
        if max_pixels is not None and width * height > max_pixels:
            raise ImageDecodeError(f"image has {width * height} pixels, more than the limit of {max_pixels}")
        orientation = image.getexif().get(0x0112, 1)
        upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
        if draft_size and image.format == "JPEG":
            image.draft("RGB", (draft_size, draft_size))
        image.load()
        image = ImageOps.exif_transpose(image)
        rgb = _to_rgb(image, background)
    except ImageDecodeError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"corrupt or truncated image: {exc}") from None
    rgb.info[ORIGINAL_SIZE_KEY] = upright
    return rgb


def square_geometry(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """Where an image of width x height lands in the size x size square: (new_width, new_height, left, top)."""
    scale = size / max(width, height)
    new_width = min(size, max(1, round(width * scale)))
    new_height = min(size, max(1, round(height * scale)))
    return new_width, new_height, (size - new_width) // 2, (size - new_height) // 2


def _source_size(image: Image.Image) -> tuple[int, int]:
    """The size the geometry is computed from: the pre-draft size if this image is a draft reduction of it."""
    original = image.info.get(ORIGINAL_SIZE_KEY)
    if original and tuple(original) != image.size:
        width, height = original
        if any(image.size == (-(-width // scale), -(-height // scale)) for scale in (2, 4, 8)):
            return width, height
    return image.size


def fit_square(image: Image.Image, size: int, background: tuple[int, int, int] = WHITE) -> Image.Image:
    """Resize keeping the aspect ratio so the longer side is `size`, centred on a size x size background square."""
    width, height = _source_size(image)
    new_width, new_height, left, top = square_geometry(width, height, size)
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size == (size, size) and (new_width, new_height) == (size, size):
        return image
    resized = image.resize((new_width, new_height), Image.Resampling.BICUBIC, reducing_gap=3.0)
    canvas = Image.new("RGB", (size, size), background)
    canvas.paste(resized, (left, top))
    return canvas


def fit_square_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """Apply fit_square's geometry to a boolean mask (H, W) in the original image's pixels: (size, size) bool.

    A target pixel is set when at least half of the source area it covers is masked; padding is never masked.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.shape[0] < 1 or mask.shape[1] < 1:
        raise ValueError(f"expected a 2-D mask (H, W), got shape {mask.shape}")
    height, width = mask.shape
    new_width, new_height, left, top = square_geometry(width, height, size)
    grey = Image.fromarray(mask.astype(np.uint8) * 255, mode="L")
    resized = np.asarray(grey.resize((new_width, new_height), Image.Resampling.BOX)) >= 128
    out = np.zeros((size, size), dtype=bool)
    out[top : top + new_height, left : left + new_width] = resized
    return out


def prepare_square(
    source: ImageSource | Image.Image, size: int, background: tuple[int, int, int] = WHITE
) -> np.ndarray:
    """Load (if needed) and fit an image into the model's input square: (size, size, 3) uint8."""
    image = source if isinstance(source, Image.Image) else load_image(source, draft_size=size, background=background)
    if image.mode != "RGB":
        image = _to_rgb(image, background)
    return np.asarray(fit_square(image, size, background), dtype=np.uint8)


def is_image_path(path: str | Path) -> bool:
    """Cheap extension check used when walking folders."""
    return Path(path).suffix.lower() in {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
