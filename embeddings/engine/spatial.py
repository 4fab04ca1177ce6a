"""Pixel helpers shared by the backbones and the engine: sRGB->CIELAB, cell boundaries, colour grids."""

from __future__ import annotations

import numpy as np

# sRGB (D65) -> XYZ, rows X, Y, Z; divided by the D65 white point so that white maps to (1, 1, 1).
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float64,
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
RGB_TO_XYZN = (_RGB_TO_XYZ / _WHITE_D65[:, None]).T.astype(np.float32)  # (3, 3), applied as rgb @ M


LAB_EPSILON, LAB_KAPPA = 216 / 24389, 24389 / 27


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64) / 255.0
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


SRGB_TO_LINEAR_LUT = _srgb_to_linear(np.arange(256)).astype(np.float32)


def _lab_f(rgb: np.ndarray) -> np.ndarray:
    """The CIELAB companding f(X/Xn), f(Y/Yn), f(Z/Zn) of sRGB colours (last axis 3), float32."""
    if rgb.shape[-1] != 3:
        raise ValueError(f"expected a last axis of 3 colour channels, got shape {rgb.shape}")
    if rgb.dtype == np.uint8:
        linear = SRGB_TO_LINEAR_LUT[rgb]
    else:
        linear = _srgb_to_linear(np.clip(rgb, 0, 255)).astype(np.float32)
    # Three explicit multiply-adds instead of `linear @ M`: no BLAS call, so no BLAS thread pool fighting TensorFlow.
    r, g, b = linear[..., 0], linear[..., 1], linear[..., 2]
    m = RGB_TO_XYZN
    xyz = np.stack([r * m[0, i] + g * m[1, i] + b * m[2, i] for i in range(3)], axis=-1)
    f = np.cbrt(xyz)
    dark = xyz <= LAB_EPSILON
    if dark.any():
        f[dark] = (LAB_KAPPA * xyz[dark] + 16) / 116
    return f


def _f_to_lab(f: np.ndarray) -> np.ndarray:
    lab = np.empty_like(f, dtype=np.float32)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert sRGB colours (uint8 0..255, or float 0..255, last axis 3) to CIELAB (D65) float32, same shape."""
    return _f_to_lab(_lab_f(np.asarray(rgb)))


def cell_edges(size: int, grid: int) -> np.ndarray:
    """Pixel boundaries of `grid` cells along a side of `size` pixels (grid + 1 ints, first 0, last size)."""
    return np.round(np.linspace(0, size, grid + 1)).astype(int)


def colour_grid(square: np.ndarray, grid: int) -> np.ndarray:
    """Mean CIELAB colour of each of grid x grid cells of a square uint8 RGB image (S, S, 3): (G, G, 3) float16."""
    square = np.asarray(square)
    if square.ndim != 3 or square.shape[2] != 3 or square.shape[0] != square.shape[1]:
        raise ValueError(f"expected a square RGB image (S, S, 3), got shape {square.shape}")
    # L, a and b are affine in f: averaging f over each cell, then converting, is exactly the mean Lab of the cell.
    f = _lab_f(square)
    size = square.shape[0]
    if size % grid == 0:
        step = size // grid
        # Sum rows of cells over contiguous memory first (10x faster than a 5-D mean over axes 1 and 3).
        rows = f.reshape(grid, step, size * 3).sum(axis=1)
        cells = rows.reshape(grid, grid, step, 3).sum(axis=2) / (step * step)
    else:
        edges = cell_edges(size, grid)
        sums = np.add.reduceat(np.add.reduceat(f, edges[:-1], axis=0), edges[:-1], axis=1)
        counts = np.diff(edges)
        cells = sums / (counts[:, None, None] * counts[None, :, None])
    cells = _f_to_lab(cells.astype(np.float32))
    return cells.astype(np.float16)
