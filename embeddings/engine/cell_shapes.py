"""Per-cell shape descriptors of a product photo: which way its edges run, how busy it is, how much product it holds.

The engine's second eye beside the colour grid (`spatial.colour_grid`). A shopper who paints the collar of a white
tee may want another colour there, or another shape or print: the colour grid sees the first, this sees the others.
Computed from the pixels of the padded square (no model), once per photo when it is embedded, and stored in the
index instead of the CNN's 7 x 7 feature map: measured on the simulated shoppers, a distance between CNN cells
ranked the wanted product no better than chance inside the painted cells (their receptive fields cover most of the
photo), while these descriptors ranked it in the top fifth (docs/ENGINE.md).

Per cell, SHAPE_CHANNELS = 8 numbers:
- 6 unsigned edge orientations (0..180 degrees, soft-binned), weighted by the gradient magnitude of whichever CIELAB
  channel changes most at the pixel (a navy seam on white and a red print on navy are both edges), as shares of the
  cell's edge energy; a cell with little edge energy (plain fabric, background) has shares near 0;
- texture: log(1 + mean gradient magnitude) / TEXTURE_SCALE, about 0 on background and 1 on a dense print;
- fill: the share of the cell's pixels that are product, not studio background (the silhouette).
"""

from __future__ import annotations

import numpy as np

from embeddings.engine.spatial import cell_edges, rgb_to_lab

ORIENTATIONS = 6  # 30 degrees a bin
SHAPE_CHANNELS = ORIENTATIONS + 2
# Mean magnitude per pixel below which a cell's orientation shares fade towards 0: plain fabric folds reach ~5-15,
# a stitched seam or a logo edge 20-60, a printed cell > 100 (Sobel on CIELAB, catalog photos at 224 px).
ENERGY_FLOOR = 20.0
TEXTURE_SCALE = 5.0  # log1p(mean magnitude) of a dense print is ~5
BACKGROUND_LIGHTNESS = 95.0  # a pixel is background when L >= 95 and chroma <= 8 (the colour grid's rule per cell)
BACKGROUND_CHROMA = 8.0
SHAPES_TAG = "s8"  # part of the backbone version: changing the descriptor changes every stored grid


def _sobel(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sobel x and y gradients of a (H, W) float image, edges replicated."""
    p = np.pad(channel, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return gx, gy


def shape_grid(square: np.ndarray, grid: int) -> np.ndarray:
    """(grid, grid, SHAPE_CHANNELS) float16 shape descriptors of a square uint8 RGB image (S, S, 3)."""
    square = np.asarray(square)
    if square.ndim != 3 or square.shape[2] != 3 or square.shape[0] != square.shape[1]:
        raise ValueError(f"expected a square RGB image (S, S, 3), got shape {square.shape}")
    lab = rgb_to_lab(square)
    gradients = [_sobel(lab[..., i]) for i in range(3)]
    magnitudes = np.stack([np.hypot(gx, gy) for gx, gy in gradients])
    strongest = np.argmax(magnitudes, axis=0)
    gx = np.choose(strongest, [g[0] for g in gradients])
    gy = np.choose(strongest, [g[1] for g in gradients])
    magnitude = np.take_along_axis(magnitudes, strongest[None], axis=0)[0]

    position = (np.arctan2(gy, gx) % np.pi) / np.pi * ORIENTATIONS - 0.5  # bin centres at k + 0.5
    low = np.floor(position)
    upper_share = (position - low).ravel()
    low = low.astype(np.int64) % ORIENTATIONS
    high = (low + 1) % ORIENTATIONS

    size = square.shape[0]
    index = np.searchsorted(cell_edges(size, grid), np.arange(size), side="right") - 1
    cell = (index[:, None] * grid + index[None, :]).ravel()
    area = np.bincount(cell, minlength=grid * grid).astype(np.float64)
    m = magnitude.ravel()
    n = grid * grid * ORIENTATIONS
    hist = np.bincount(cell * ORIENTATIONS + low.ravel(), m * (1 - upper_share), n)
    hist += np.bincount(cell * ORIENTATIONS + high.ravel(), m * upper_share, n)
    hist = hist.reshape(grid * grid, ORIENTATIONS) / area[:, None]  # mean magnitude per pixel, by orientation
    energy = hist.sum(axis=1)
    orientations = hist / np.maximum(energy, ENERGY_FLOOR)[:, None]
    texture = np.log1p(energy) / TEXTURE_SCALE
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    product = ((lab[..., 0] < BACKGROUND_LIGHTNESS) | (chroma > BACKGROUND_CHROMA)).ravel()
    fill = np.bincount(cell, product.astype(np.float64), grid * grid) / area
    out = np.concatenate([orientations, texture[:, None], fill[:, None]], axis=1)
    return out.reshape(grid, grid, SHAPE_CHANNELS).astype(np.float16)
