"""AnnoyCatalogView: one memory-mapped index version answering CatalogView queries; and its verification."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex

from embeddings.engine.index.annoy_build import ANNOY_FILE, file_sha256, read_manifest, version_checksum
from embeddings.engine.types import FeatureArrays

# Feature arrays checked by size only when a reader loads a version quickly (see verify_index_version).
BULK_FILES = frozenset({"vectors.npy", "spatial.npy", "colours.npy"})
# Below this many bytes of feature arrays (~50k products) a reader hashes them too: under a second.
FULL_HASH_MAX_BULK_BYTES = 1 << 30

# A self-query must find itself (or an identical twin) at least this similar.
SELF_QUERY_MIN_SIMILARITY = 0.999


class IndexVerificationError(Exception):
    """A built index version is incomplete, corrupt or does not answer as it should."""


class AnnoyCatalogView:
    """CatalogView over one version directory; every array is memory-mapped so processes share pages."""

    def __init__(self, directory: Path | str, *, search_k: int | None = None):
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory)
        self.version: str = self.manifest["version"]
        n = int(self.manifest["items"])
        self.items = n

        def load(name: str) -> np.ndarray:
            return np.load(self.directory / f"{name}.npy", mmap_mode="r")

        self.ids = load("ids")[:n]
        self.vectors = load("vectors")[:n]
        self.spatial = load("spatial")[:n]
        self.colours = load("colours")[:n]
        self._lookup_ids = load("lookup_ids")
        self._lookup_rows = load("lookup_rows")
        self._pca = None
        if (self.directory / "pca_components.npy").exists():
            self._pca = (np.load(self.directory / "pca_mean.npy"), np.load(self.directory / "pca_components.npy"))
        params = self.manifest.get("params", {})
        self.search_k = int(self.manifest["search_k"] if search_k is None else search_k)
        self.rerank = int(params.get("rerank", 100))
        self._annoy = AnnoyIndex(int(self.manifest["index_dim"]), self.manifest["metric"])
        self._annoy.load(str(self.directory / ANNOY_FILE), prefault=False)

    def __len__(self) -> int:
        return self.items

    def _rows(self, product_ids: Sequence[int]) -> np.ndarray:
        """Row of each requested id, -1 where unknown."""
        wanted = np.asarray(list(product_ids), dtype=np.int64)
        if len(wanted) == 0 or self.items == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        pos = np.searchsorted(self._lookup_ids, wanted).clip(0, self.items - 1)
        found = np.asarray(self._lookup_ids[pos]) == wanted
        return np.where(found, np.asarray(self._lookup_rows[pos]), -1)

    def __contains__(self, product_id: object) -> bool:
        try:
            return bool(self._rows([int(product_id)])[0] >= 0)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to k products nearest to `query`: Annoy candidates re-ranked by exact cosine, best first."""
        if k <= 0 or self.items == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(q))
        if q.shape[0] != self.vectors.shape[1] or not np.isfinite(norm) or norm == 0.0:
            raise ValueError(f"query must be a finite non-zero vector of {self.vectors.shape[1]} values")
        q = q / norm
        probe = q
        if self._pca is not None:
            probe = (q - self._pca[0]) @ self._pca[1].T
        candidates = self._annoy.get_nns_by_vector(probe, max(k, self.rerank), search_k=self.search_k)
        rows = np.asarray(sorted(candidates), dtype=np.int64)
        sims = (np.asarray(self.vectors[rows], dtype=np.float32) @ q).astype(np.float32)
        order = np.lexsort((rows, -sims))[:k]
        return np.asarray(self.ids[rows[order]], dtype=np.int64), sims[order]

    def features(self, product_ids: Sequence[int]) -> FeatureArrays:
        """Stored features of these products in the requested order; unknown ids are left out."""
        rows = self._rows(product_ids)
        rows = rows[rows >= 0]
        return FeatureArrays(
            product_ids=np.asarray(self.ids[rows], dtype=np.int64),
            vectors=np.asarray(self.vectors[rows], dtype=np.float32),
            spatial=np.asarray(self.spatial[rows]),
            colours=np.asarray(self.colours[rows]),
        )


def _checksum_ok(directory: Path, manifest: dict, full: bool | None) -> bool:
    """Whole-version checksum, or (quick) only the files whose damage can crash a reader: the Annoy file and the
    small id/PCA arrays; the big feature arrays (gigabytes at 1M products) are then checked by size only.
    `full=None`: whole checksum unless the feature arrays exceed FULL_HASH_MAX_BULK_BYTES."""
    per_file = manifest.get("file_checksums")
    if full is None:
        bulk = sum(size for name, size in manifest.get("sizes", {}).items() if name in BULK_FILES)
        full = bulk <= FULL_HASH_MAX_BULK_BYTES
    if full or not per_file:
        return version_checksum(directory, manifest["files"]) == manifest["checksum"]
    if version_checksum(directory, manifest["files"], per_file) != manifest["checksum"]:
        return False  # the manifest's per-file list was edited
    quick = [name for name in manifest["files"] if name not in BULK_FILES]
    return all(file_sha256(directory / name) == per_file[name] for name in quick)


def verify_index_version(directory: Path | str, *, samples: int = 5, full: bool | None = True) -> AnnoyCatalogView:
    """Reload a version and check files, sizes, checksum, item count and self-queries; return the loaded view.

    Web readers pass `full=None`: above ~1 GiB of feature arrays (~50k products) only the Annoy file and the small
    arrays are hashed, so loading a version stays seconds at 1M products (a full hash there takes about a minute
    per process); builds and `index_status --verify-all` always hash everything.
    """
    directory = Path(directory)
    try:
        manifest = read_manifest(directory)
        missing = [name for name in manifest["files"] if not (directory / name).exists()]
        if missing:
            raise IndexVerificationError(f"missing files: {', '.join(missing)}")
        # Sizes first (one stat each): a truncated file is caught before hashing gigabytes.
        wrong = [n for n, size in manifest.get("sizes", {}).items() if (directory / n).stat().st_size != size]
        if wrong:
            raise IndexVerificationError(f"wrong file size: {', '.join(wrong)}")
        # A damaged Annoy file makes Annoy crash the process (segfault/abort) on a query: never load one unchecked.
        if not _checksum_ok(directory, manifest, full):
            raise IndexVerificationError("checksum mismatch")
        view = AnnoyCatalogView(directory)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexVerificationError(f"cannot load index version: {exc}") from exc
    if view._annoy.get_n_items() != manifest["items"] or len(view.ids) != manifest["items"]:
        raise IndexVerificationError(f"expected {manifest['items']} items, found {view._annoy.get_n_items()}")
    for row in np.linspace(0, view.items - 1, num=min(samples, view.items)).astype(int):
        _, sims = view.search(np.asarray(view.vectors[row]), 1)
        if len(sims) == 0 or sims[0] < SELF_QUERY_MIN_SIMILARITY:
            raise IndexVerificationError(f"self-query of item {row} did not return itself")
    return view
