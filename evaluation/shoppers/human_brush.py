"""The human brush (protocol v2): the cells a shopper's eyes chose, painted as a person paints them.

A person does not fill grid cells. Given the chosen (GRID, GRID) cells, `HumanBrush.paint`:
- misses each chosen cell with probability MISS_PROBABILITY (but keeps at least one, so it never paints nothing);
- groups the kept cells into 4-connected regions and walks each region in strokes: a stroke starts at the region's
  first cell along a random direction and moves to a neighbouring kept cell (at most CELLS_PER_STROKE cells), then a
  new stroke starts where cells remain;
- a stroke is a polyline through POINTS_PER_CELL jittered points per cell (within JITTER of the cell's centre,
  drawn from the product's pixels there when it has any, as a person aims at the product), so it follows no grid;
- its width varies along the stroke: a random width in WIDTH_RANGE px at every point, interpolated between them,
  drawn as round discs every STEP_PX px with Pillow's ImageDraw (round ends and joints);
- paint spills beyond the kept cells by up to JITTER x 28 + max width / 2 - 14 = ~12 px (under half a cell), onto
  neighbouring cells and the background; everything is clipped to the 224 x 224 image.
Everything random comes from `rng`, so one (run, episode, step) always paints the same strokes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from evaluation.shoppers.base import GRID, IMAGE_SIZE

MISS_PROBABILITY = 0.2  # a person skips about one chosen cell in five
CELLS_PER_STROKE = 4  # longest walk of one stroke before the brush is lifted
POINTS_PER_CELL = 3  # a stroke wiggles through three points in each cell it crosses
JITTER = 0.4  # points lie within 0.4 cell (11 px) of the cell's centre
WIDTH_RANGE = (10.0, 30.0)  # stroke width in px, varying along the stroke
STEP_PX = 2.0  # spacing of the discs that draw a stroke
CELL = IMAGE_SIZE // GRID
NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def cell_regions(cells: np.ndarray) -> list[list[tuple[int, int]]]:
    """The chosen cells grouped into 4-connected regions (row-major order of their first cell)."""
    seen = np.zeros(cells.shape, dtype=bool)
    regions = []
    for start in zip(*np.nonzero(cells), strict=True):
        if seen[start]:
            continue
        region, todo = [], [start]
        seen[start] = True
        while todo:
            r, c = todo.pop()
            region.append((int(r), int(c)))
            for dr, dc in NEIGHBOURS:
                n = (r + dr, c + dc)
                if 0 <= n[0] < cells.shape[0] and 0 <= n[1] < cells.shape[1] and cells[n] and not seen[n]:
                    seen[n] = True
                    todo.append(n)
        regions.append(sorted(region))
    return regions


def stroke_walks(region: list[tuple[int, int]], rng: np.random.Generator) -> list[list[tuple[int, int]]]:
    """A region's cells as strokes: walks between 4-neighbours, each from the rearmost cell along a random line."""
    angle = rng.uniform(0, 2 * np.pi)
    along = {cell: cell[0] * np.sin(angle) + cell[1] * np.cos(angle) for cell in region}
    left = set(region)
    walks = []
    while left:
        cell = min(left, key=lambda x: (along[x], x))
        walk = [cell]
        left.discard(cell)
        while len(walk) < CELLS_PER_STROKE:
            r, c = walk[-1]
            nexts = [(r + dr, c + dc) for dr, dc in NEIGHBOURS if (r + dr, c + dc) in left]
            if not nexts:
                break
            cell = min(nexts, key=lambda x: (along[x], x))
            walk.append(cell)
            left.discard(cell)
        walks.append(walk)
    return walks


def cell_points(cell: tuple[int, int], foreground_pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(POINTS_PER_CELL, 2) x, y points near the cell's centre, on the product's pixels there if it has any."""
    r, c = cell
    centre = np.array([(c + 0.5) * CELL, (r + 0.5) * CELL])
    reach = JITTER * CELL
    lo = np.floor(centre - reach).astype(int)
    hi = np.ceil(centre + reach).astype(int)
    ys, xs = np.nonzero(foreground_pixels[lo[1] : hi[1], lo[0] : hi[0]])
    if len(xs):
        pick = rng.integers(0, len(xs), POINTS_PER_CELL)
        return np.stack([xs[pick] + lo[0], ys[pick] + lo[1]], axis=1).astype(float) + rng.uniform(
            -0.5, 0.5, (POINTS_PER_CELL, 2)
        )
    return centre + rng.uniform(-reach, reach, (POINTS_PER_CELL, 2))


def draw_stroke(draw: ImageDraw.ImageDraw, points: np.ndarray, widths: np.ndarray) -> None:
    """Round discs along the polyline, their diameter interpolated between the points' widths."""
    for i in range(len(points)):
        a, b = points[i], points[min(i + 1, len(points) - 1)]
        steps = max(1, int(np.ceil(np.linalg.norm(b - a) / STEP_PX)))
        for t in np.linspace(0.0, 1.0, steps + 1):
            x, y = a + t * (b - a)
            radius = (widths[i] + t * (widths[min(i + 1, len(points) - 1)] - widths[i])) / 2
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=1)


class HumanBrush:
    """Paints the chosen cells as a person would: a few strokes of varying width, off the grid, some cells missed,
    some paint spilling over; works with any eyes (it needs only their cells and foreground pixels)."""

    name = "human"

    def paint(self, cells: np.ndarray, foreground_pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(IMAGE_SIZE, IMAGE_SIZE) bool mask of the strokes."""
        cells = np.asarray(cells, dtype=bool)
        chosen = np.argwhere(cells)
        mask = Image.new("1", (IMAGE_SIZE, IMAGE_SIZE), 0)
        if not len(chosen):
            return np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
        kept = cells & (rng.random(cells.shape) >= MISS_PROBABILITY)
        if not kept.any():
            kept[tuple(chosen[rng.integers(0, len(chosen))])] = True
        foreground_pixels = np.asarray(foreground_pixels, dtype=bool)
        draw = ImageDraw.Draw(mask)
        for region in cell_regions(kept):
            for walk in stroke_walks(region, rng):
                points = np.concatenate([cell_points(cell, foreground_pixels, rng) for cell in walk])
                draw_stroke(draw, points, rng.uniform(*WIDTH_RANGE, len(points)))
        return np.asarray(mask, dtype=bool)
