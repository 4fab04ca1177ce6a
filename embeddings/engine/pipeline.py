"""Batched embedding of image files: decoding and resizing in a thread pool, overlapped with the forward passes."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from embeddings.engine.preprocess import ImageSource, prepare_square
from embeddings.engine.cell_shapes import shape_grid
from embeddings.engine.spatial import colour_grid
from embeddings.engine.types import Backbone, ImageFeatures

# Pillow releases the GIL while decoding and resizing. Decoding a catalog photo costs ~1 ms against ~25 ms of forward
# pass per image on a CPU core: one decode thread per two cores keeps the model fed (measured: docs/BACKBONES.md).
DEFAULT_DECODE_WORKERS = max(1, min(8, (os.cpu_count() or 2) // 2))
# Decoded batches kept ready ahead of the model: enough to hide decode jitter, small enough to bound memory.
PREFETCH_BATCHES = 2


def _decode(source: ImageSource, size: int, grid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode and fit one file, and compute its colour and shape grids: all the per-image work that is not the model."""
    square = prepare_square(source, size)
    return square, colour_grid(square, grid), shape_grid(square, grid)


def embed_files(
    backbone: Backbone,
    sources: Sequence[ImageSource],
    batch_size: int = 32,
    *,
    workers: int = DEFAULT_DECODE_WORKERS,
    prefetch_batches: int = PREFETCH_BATCHES,
) -> Iterator[tuple[int, ImageFeatures | Exception]]:
    """Embed files in batches of `batch_size`, yielding (index into sources, features or the decode exception).

    Every index is yielded exactly once. A file that fails to decode yields its exception (usually
    ImageDecodeError) as soon as it is reached; the other files still fill the batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    size = backbone.input_size
    window = batch_size * (prefetch_batches + 1)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="embed-decode") as pool:
        pending: deque[tuple[int, Future]] = deque()
        next_index = 0

        def top_up() -> None:
            nonlocal next_index
            while next_index < len(sources) and len(pending) < window:
                pending.append((next_index, pool.submit(_decode, sources[next_index], size, backbone.grid)))
                next_index += 1

        top_up()
        try:
            yield from _batches(backbone, pending, top_up, batch_size)
        finally:  # the consumer may stop early: drop the decodes nobody will read
            for _, future in pending:
                future.cancel()


def _batches(
    backbone: Backbone, pending: deque[tuple[int, Future]], top_up: Callable[[], None], batch_size: int
) -> Iterator[tuple[int, ImageFeatures | Exception]]:
    """Gather decoded squares into batches of up to batch_size; yield decode failures as they come."""
    while pending:
        indices: list[int] = []
        squares: list[np.ndarray] = []
        colours: list[np.ndarray] = []
        shapes: list[np.ndarray] = []
        while pending and len(indices) < batch_size:
            index, future = pending.popleft()
            top_up()
            try:
                square, grid_colours, grid_shapes = future.result()
            except Exception as exc:  # a bad file must never stop the others
                yield index, exc
                continue
            indices.append(index)
            squares.append(square)
            colours.append(grid_colours)
            shapes.append(grid_shapes)
        if indices:
            yield from zip(indices, backbone.features(np.stack(squares), colours, shapes), strict=True)
