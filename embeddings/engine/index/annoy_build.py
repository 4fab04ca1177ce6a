"""Writing one immutable index version: aligned feature arrays, optional PCA, the Annoy trees and a manifest."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex

from embeddings.engine.index.store import MANIFEST_NAME, write_json_atomic

ANNOY_FILE = "index.ann"
ARRAY_FILES = ("ids", "vectors", "spatial", "colours", "lookup_ids", "lookup_rows")
# Rows fed to Annoy / hashed per step: bounds memory whatever the catalog size.
CHUNK_ROWS = 8192
# Rows used to fit the PCA projection: plenty for a 256-d subspace, seconds even at 1M items.
PCA_SAMPLE_ROWS = 20_000
HASH_BLOCK = 8 * 1024 * 1024

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IndexParams:
    """How to build the Annoy trees and how readers should query them."""

    trees: int = 50
    search_k: int = -1
    metric: str = "angular"
    # Index a PCA-reduced copy of this many dimensions (None: the full vectors); readers re-rank exactly.
    pca_dim: int | None = None
    # Candidates fetched from Annoy and re-ranked with the full vectors per query.
    rerank: int = 100
    # Build the trees in the target file instead of RAM (memory stays flat for large catalogs).
    on_disk_build: bool = True
    n_jobs: int = -1


class NotEnoughDiskSpace(OSError):
    """The index directory's filesystem cannot hold the version about to be built."""


def estimate_version_bytes(n: int, dim: int, spatial_shape: tuple, colour_shape: tuple, params: IndexParams) -> int:
    """Upper estimate of a version's bytes on disk: the arrays plus the Annoy file at its peak while building.

    Annoy (angular) stores a node of 12 + 4 * d bytes per item, plus ~2n/K split nodes per tree (K ~ d + 2 items
    per leaf); its on-disk build grows the file by 1.3x steps, hence the 1.5 margin.
    """
    index_dim = params.pca_dim if params.pca_dim and params.pca_dim < dim and n > params.pca_dim else dim
    node = 12 + 4 * index_dim
    nodes = n + params.trees * (2 * n // (index_dim + 2) + 2)
    arrays = n * (8 + 4 * dim + 2 * int(np.prod(spatial_shape)) + 2 * int(np.prod(colour_shape)) + 16)
    pca = 4 * index_dim * (dim + 1) if index_dim != dim else 0
    return int(arrays + pca + 1.5 * node * nodes) + 1024 * 1024


def check_disk_space(directory: Path, needed: int) -> None:
    """Raise NotEnoughDiskSpace before writing anything if `directory`'s filesystem has less than `needed` free.

    A memory-mapped write into a full filesystem kills the process with SIGBUS instead of raising: check first.
    """
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise NotEnoughDiskSpace(
            errno.ENOSPC,
            f"not enough disk space for the index: ~{needed / 1e6:.0f} MB needed, {free / 1e6:.0f} MB free",
            str(directory),
        )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(directory: Path, files: list[str]) -> dict[str, str]:
    """SHA-256 of each named file of a version."""
    return {name: file_sha256(directory / name) for name in files}


def version_checksum(directory: Path, files: list[str], checksums: dict[str, str] | None = None) -> str:
    """One checksum over the named files of a version (order matters); per-file `checksums` spare re-hashing."""
    digest = hashlib.sha256()
    for name in files:
        sha = checksums[name] if checksums is not None else file_sha256(directory / name)
        digest.update(name.encode() + b"\0" + sha.encode())
    return digest.hexdigest()


def fit_pca(vectors: np.ndarray, dim: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components (dim, D)) of a PCA fitted on a sample of the rows (eigenvectors of the covariance)."""
    n = len(vectors)
    rows = np.sort(np.random.default_rng(seed).choice(n, size=min(n, PCA_SAMPLE_ROWS), replace=False))
    sample = np.asarray(vectors[rows], dtype=np.float32)
    mean = sample.mean(axis=0)
    centred = sample - mean
    covariance = (centred.T @ centred).astype(np.float64) / max(1, len(sample) - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    top = np.argsort(eigenvalues)[::-1][:dim]
    return mean.astype(np.float32), eigenvectors[:, top].T.astype(np.float32)


def project(vectors: np.ndarray, pca: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Vectors as Annoy sees them: PCA-projected if the version has a projection, else unchanged float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if pca is None:
        return vectors
    mean, components = pca
    return (vectors - mean) @ components.T


def build_annoy_file(
    path: Path,
    vectors: np.ndarray,
    params: IndexParams,
    *,
    pca: tuple[np.ndarray, np.ndarray] | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Build Annoy trees over `vectors` (rows = item ids 0..n-1) into `path`."""
    n = len(vectors)
    dim = vectors.shape[1] if pca is None else pca[1].shape[0]
    index = AnnoyIndex(dim, params.metric)
    if params.on_disk_build:
        index.on_disk_build(str(path))
    for start in range(0, n, CHUNK_ROWS):
        chunk = project(vectors[start : start + CHUNK_ROWS], pca)
        for offset, row in enumerate(chunk):
            index.add_item(start + offset, row)
        if progress:
            progress("add", min(start + CHUNK_ROWS, n), n)
    index.build(params.trees, n_jobs=params.n_jobs)
    if not params.on_disk_build:
        index.save(str(path))
    index.unload()


class RowFile:
    """One .npy array of a fixed shape, created at full size (sparse) and filled with plain positional writes.

    The rows go through the page cache, not through a mapping of this process: a writable memmap keeps every page
    written resident in the writer (~18 GB at 1M products), this keeps one chunk.
    """

    def __init__(self, path: Path, dtype: np.dtype | type, shape: tuple):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(int(d) for d in shape[1:])
        self.row_bytes = self.dtype.itemsize * int(np.prod(self.row_shape, dtype=np.int64))
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": tuple(shape)}
        with open(self.path, "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)
            self.offset = handle.tell()
            handle.truncate(self.offset + self.row_bytes * int(shape[0]))
        self._fd: int | None = os.open(self.path, os.O_WRONLY)

    def write(self, start: int, rows: np.ndarray, count: int) -> None:
        """Write `count` rows (converted to this dtype, broadcast like an array assignment) from row `start` on."""
        data = np.ascontiguousarray(np.broadcast_to(np.asarray(rows, dtype=self.dtype), (count, *self.row_shape)))
        view, position = memoryview(data).cast("B"), self.offset + start * self.row_bytes
        while view:
            written = os.pwrite(self._fd, view, position)
            view, position = view[written:], position + written

    def close(self) -> None:
        """Flush the rows to disk and close the file (idempotent)."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:  # an abandoned build: release the descriptor (the directory gets discarded)
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)


class RowReader:
    """The first n rows of an .npy file, read on demand: each read maps the file, copies the rows and unmaps it."""

    def __init__(self, path: Path, n: int):
        self.path = Path(path)
        self.n = n
        self.shape = (n, *np.load(self.path, mmap_mode="r").shape[1:])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key) -> np.ndarray:
        return np.array(np.load(self.path, mmap_mode="r")[: self.n][key])


class VersionWriter:
    """Fills the aligned arrays of a new version chunk by chunk, then builds and seals it with a manifest.

    Memory stays at one chunk whatever the catalog size: rows are written with plain file writes and read back per
    chunk for the Annoy build (the trees themselves are built in the target file with `on_disk_build`).
    """

    def __init__(self, directory: Path, *, capacity: int, dim: int, spatial_shape: tuple, colour_shape: tuple):
        self.directory = Path(directory)
        self.dim = dim
        self.capacity = capacity
        self.filled = 0
        self.ids = RowFile(self.directory / "ids.npy", np.int64, (capacity,))
        self.vectors = RowFile(self.directory / "vectors.npy", np.float32, (capacity, dim))
        self.spatial = RowFile(self.directory / "spatial.npy", np.float16, (capacity, *spatial_shape))
        self.colours = RowFile(self.directory / "colours.npy", np.float16, (capacity, *colour_shape))

    def append(self, product_ids: np.ndarray, vectors: np.ndarray, spatial: np.ndarray, colours: np.ndarray) -> None:
        """Add rows (one per product) after the ones already written."""
        count = len(product_ids)
        if self.filled + count > self.capacity:
            raise ValueError("more rows than the capacity this version was opened with")
        for array, rows in zip(self._files(), (product_ids, vectors, spatial, colours), strict=True):
            array.write(self.filled, rows, count)
        self.filled += count

    def _files(self) -> tuple[RowFile, ...]:
        return self.ids, self.vectors, self.spatial, self.colours

    def finish(
        self, params: IndexParams, *, version: str, backbone_version: str, progress: ProgressFn | None = None, **extra
    ) -> dict:
        """Build the trees and lookup tables, write the manifest and return it."""
        started = time.perf_counter()
        n = self.filled
        if n == 0:
            raise ValueError("cannot build an index with no items")
        for array in self._files():
            array.close()
        ids = RowReader(self.ids.path, n)[:]
        if len(np.unique(ids)) != n:
            raise ValueError("an index version must hold each product once")
        order = np.argsort(ids, kind="stable")
        np.save(self.directory / "lookup_ids.npy", ids[order])
        np.save(self.directory / "lookup_rows.npy", order.astype(np.int64))
        vectors = RowReader(self.vectors.path, n)
        pca = None
        if params.pca_dim and params.pca_dim < self.dim and n > params.pca_dim:
            pca = fit_pca(vectors, params.pca_dim)
            np.save(self.directory / "pca_mean.npy", pca[0])
            np.save(self.directory / "pca_components.npy", pca[1])
        build_annoy_file(self.directory / ANNOY_FILE, vectors, params, pca=pca, progress=progress)
        files = [ANNOY_FILE, *(f"{name}.npy" for name in ARRAY_FILES)]
        if pca is not None:
            files += ["pca_mean.npy", "pca_components.npy"]
        checksums = file_checksums(self.directory, files)
        manifest = {
            "version": version,
            "items": n,
            "dim": self.dim,
            "index_dim": self.dim if pca is None else int(pca[1].shape[0]),
            "metric": params.metric,
            "trees": params.trees,
            "search_k": params.search_k,
            "params": asdict(params),
            "backbone_version": backbone_version,
            "created": datetime.now(UTC).isoformat(),
            "files": files,
            "checksum": version_checksum(self.directory, files, checksums),
            "file_checksums": checksums,
            "sizes": {name: (self.directory / name).stat().st_size for name in files},
            "build_seconds": round(time.perf_counter() - started, 3),
            **extra,
        }
        write_json_atomic(self.directory / MANIFEST_NAME, manifest)
        return manifest


def read_manifest(directory: Path) -> dict:
    """The manifest of a version directory."""
    return json.loads((Path(directory) / MANIFEST_NAME).read_text())
