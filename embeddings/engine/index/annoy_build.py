"""Writing one immutable index version: aligned feature arrays, optional PCA, the Annoy trees and a manifest."""

from __future__ import annotations

import hashlib
import json
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


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def version_checksum(directory: Path, files: list[str]) -> str:
    """One checksum over the named files of a version (order matters)."""
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + file_sha256(directory / name).encode())
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


class VersionWriter:
    """Fills the aligned arrays of a new version chunk by chunk, then builds and seals it with a manifest."""

    def __init__(self, directory: Path, *, capacity: int, dim: int, spatial_shape: tuple, colour_shape: tuple):
        self.directory = Path(directory)
        self.dim = dim
        self.filled = 0
        open_ = np.lib.format.open_memmap
        self.ids = open_(self.directory / "ids.npy", mode="w+", dtype=np.int64, shape=(capacity,))
        self.vectors = open_(self.directory / "vectors.npy", mode="w+", dtype=np.float32, shape=(capacity, dim))
        self.spatial = open_(
            self.directory / "spatial.npy", mode="w+", dtype=np.float16, shape=(capacity, *spatial_shape)
        )
        self.colours = open_(
            self.directory / "colours.npy", mode="w+", dtype=np.float16, shape=(capacity, *colour_shape)
        )

    def append(self, product_ids: np.ndarray, vectors: np.ndarray, spatial: np.ndarray, colours: np.ndarray) -> None:
        """Add rows (one per product) after the ones already written."""
        count = len(product_ids)
        if self.filled + count > len(self.ids):
            raise ValueError("more rows than the capacity this version was opened with")
        window = slice(self.filled, self.filled + count)
        self.ids[window] = product_ids
        self.vectors[window] = vectors
        self.spatial[window] = spatial
        self.colours[window] = colours
        self.filled += count

    def finish(
        self, params: IndexParams, *, version: str, backbone_version: str, progress: ProgressFn | None = None, **extra
    ) -> dict:
        """Build the trees and lookup tables, write the manifest and return it."""
        started = time.perf_counter()
        n = self.filled
        if n == 0:
            raise ValueError("cannot build an index with no items")
        for array in (self.ids, self.vectors, self.spatial, self.colours):
            array.flush()
        ids = np.asarray(self.ids[:n])
        if len(np.unique(ids)) != n:
            raise ValueError("an index version must hold each product once")
        order = np.argsort(ids, kind="stable")
        np.save(self.directory / "lookup_ids.npy", ids[order])
        np.save(self.directory / "lookup_rows.npy", order.astype(np.int64))
        vectors = self.vectors[:n]
        pca = None
        if params.pca_dim and params.pca_dim < self.dim and n > params.pca_dim:
            pca = fit_pca(vectors, params.pca_dim)
            np.save(self.directory / "pca_mean.npy", pca[0])
            np.save(self.directory / "pca_components.npy", pca[1])
        build_annoy_file(self.directory / ANNOY_FILE, vectors, params, pca=pca, progress=progress)
        files = [ANNOY_FILE, *(f"{name}.npy" for name in ARRAY_FILES)]
        if pca is not None:
            files += ["pca_mean.npy", "pca_components.npy"]
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
            "checksum": version_checksum(self.directory, files),
            "build_seconds": round(time.perf_counter() - started, 3),
            **extra,
        }
        write_json_atomic(self.directory / MANIFEST_NAME, manifest)
        return manifest


def read_manifest(directory: Path) -> dict:
    """The manifest of a version directory."""
    return json.loads((Path(directory) / MANIFEST_NAME).read_text())
