"""VersionWriter streams rows to disk: plain .npy files, and the writer's memory stays at one chunk."""

from pathlib import Path

import numpy as np
import pytest

from embeddings.engine.index import AnnoyCatalogView, IndexParams, VersionWriter, verify_index_version

SPATIAL = (7, 7, 128)


def _resident_mb() -> float:
    """Resident memory of this process (anonymous + file-backed pages), MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return (int(fields["RssAnon"].split()[0]) + int(fields["RssFile"].split()[0])) / 1024


def _chunk(start: int, m: int, dim: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(start)
    vectors = rng.normal(size=(m, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    spatial = np.broadcast_to(np.arange(start, start + m, dtype=np.float32)[:, None, None, None] % 1000, (m, *SPATIAL))
    colours = np.full((m, 7, 7, 3), 50.0, np.float32)  # float32 in: stored as float16, like an array assignment
    return np.arange(10_000 + start, 10_000 + start + m), vectors, spatial, colours


def test_files_are_plain_npy_arrays_with_capacity_rows_left_empty(tmp_path):
    writer = VersionWriter(tmp_path, capacity=1005, dim=16, spatial_shape=SPATIAL, colour_shape=(7, 7, 3))
    for start in range(0, 1000, 300):
        writer.append(*_chunk(start, min(300, 1000 - start), 16))
    manifest = writer.finish(IndexParams(trees=5, search_k=1000), version="v1", backbone_version="fake")
    assert manifest["items"] == 1000
    spatial = np.load(tmp_path / "spatial.npy")
    assert spatial.shape == (1005, *SPATIAL) and spatial.dtype == np.float16
    assert float(spatial[777, 3, 4, 5]) == 777.0 and not spatial[1000:].any()
    assert np.load(tmp_path / "colours.npy").dtype == np.float16
    vectors = np.load(tmp_path / "vectors.npy")
    np.testing.assert_array_equal(vectors[300:600], _chunk(300, 300, 16)[1])
    view = verify_index_version(tmp_path)
    assert view.features([10_777]).spatial[0, 0, 0, 0] == 777.0
    assert view.search(vectors[123], 1)[0].tolist() == [10_123]


def test_rows_beyond_capacity_and_wrong_shapes_are_refused(tmp_path):
    writer = VersionWriter(tmp_path, capacity=10, dim=16, spatial_shape=SPATIAL, colour_shape=(7, 7, 3))
    ids, vectors, spatial, colours = _chunk(0, 8, 16)
    with pytest.raises(ValueError):
        writer.append(ids, vectors[:, :8], spatial, colours)
    writer.append(ids, vectors, spatial, colours)
    with pytest.raises(ValueError, match="capacity"):
        writer.append(*_chunk(8, 3, 16))


def test_writer_memory_stays_at_one_chunk(tmp_path):
    """~100 MB of spatial maps written and built: the writer process must not keep them resident."""
    n, dim, chunk = 8192, 256, 1024
    writer = VersionWriter(tmp_path, capacity=n, dim=dim, spatial_shape=SPATIAL, colour_shape=(7, 7, 3))
    data = [_chunk(start, chunk, dim) for start in range(0, n, chunk)]  # generated up front: not the writer's memory
    before = _resident_mb()
    for rows in data:
        writer.append(*rows)
    after_append = _resident_mb()
    writer.finish(IndexParams(trees=2, search_k=100), version="v1", backbone_version="fake")
    after_finish = _resident_mb()
    spatial_mb = n * np.prod(SPATIAL) * 2 / 2**20
    assert spatial_mb > 90
    # A writable memmap would hold every written page (~110 MB here) until the writer goes away.
    assert after_append - before < 30, (before, after_append)
    assert after_finish - before < 40, (before, after_finish)
    del data
    view = AnnoyCatalogView(tmp_path)
    assert len(view) == n
