"""Masks on square seed images: fit to the model's square, grid coverage, and the masked (filled) image."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from embeddings.engine.preprocess import fit_square_mask

FILL_STRATEGIES = ("background", "blur", "mean", "white")


def fit_mask_to_square(mask: np.ndarray, image_size: tuple[int, int], size: int) -> np.ndarray:
    """Map a bool (H, W) mask in the original image's pixels onto the backbone's padded `size` x `size` square."""
    mask = np.asarray(mask, dtype=bool)
    width, height = image_size
    if mask.shape != (height, width):
        raise ValueError(f"mask shape {mask.shape} does not match the image size {(height, width)}")
    return np.asarray(fit_square_mask(mask, size), dtype=bool)  # the same mapping as the photo's (preprocess)


def cell_coverage(mask: np.ndarray, grid: int) -> np.ndarray:
    """Fraction of each of grid x grid cells covered by a square bool mask, (grid, grid) float32."""
    mask = np.asarray(mask, dtype=np.float32)
    size = mask.shape[0]
    edges = np.linspace(0, size, grid + 1).round().astype(int)
    out = np.zeros((grid, grid), dtype=np.float32)
    for i in range(grid):
        for j in range(grid):
            block = mask[edges[i] : edges[i + 1], edges[j] : edges[j + 1]]
            out[i, j] = float(block.mean()) if block.size else 0.0
    return out


def background_colour(image: np.ndarray) -> np.ndarray:
    """The studio background: median RGB of the image's one-pixel border."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]]).reshape(-1, 3)
    return np.median(border, axis=0)


def fill_masked(image: np.ndarray, mask: np.ndarray, strategy: str = "background") -> np.ndarray:
    """The seed with the masked pixels replaced: studio background, heavy blur, the image mean, or white."""
    if strategy not in FILL_STRATEGIES:
        raise ValueError(f"unknown fill strategy {strategy!r}; expected one of {FILL_STRATEGIES}")
    image = np.asarray(image, dtype=np.uint8)
    mask = np.asarray(mask, dtype=bool)
    out = image.copy()
    if not mask.any():
        return out
    if strategy == "background":
        out[mask] = background_colour(image).astype(np.uint8)
    elif strategy == "white":
        out[mask] = 255
    elif strategy == "mean":
        out[mask] = image.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    else:
        blurred = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius=image.shape[0] / 16)))
        out[mask] = blurred[mask]
    return out
