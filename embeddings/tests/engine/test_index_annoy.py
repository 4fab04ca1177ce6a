"""Annoy index versions on disk: build, verify, query, atomic pointer, prune. No database."""

import json

import numpy as np
import pytest

from embeddings.engine.index import (
    AnnoyCatalogView,
    ExactCatalogView,
    IndexParams,
    IndexStore,
    IndexVerificationError,
    VersionWriter,
    verify_index_version,
)


def _clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    vectors = centres[rng.integers(0, 20, n)] + 0.5 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _build(store: IndexStore, vectors: np.ndarray, params: IndexParams, ids=None) -> tuple[str, dict]:
    n = len(vectors)
    ids = np.arange(1000, 1000 + n) if ids is None else np.asarray(ids)
    version, path = store.new_version_dir()
    writer = VersionWriter(path, capacity=n + 3, dim=vectors.shape[1], spatial_shape=(7, 7, 4), colour_shape=(7, 7, 3))
    for start in range(0, n, 300):  # several chunks, and capacity larger than the rows written
        stop = min(n, start + 300)
        spatial = np.full((stop - start, 7, 7, 4), 0.5, np.float16) * np.arange(start, stop)[:, None, None, None]
        writer.append(ids[start:stop], vectors[start:stop], spatial, np.zeros((stop - start, 7, 7, 3), np.float16))
    return version, writer.finish(params, version=version, backbone_version="fake-1")


@pytest.mark.parametrize("pca_dim", [None, 16])
def test_build_verify_and_search_matches_exact(tmp_path, pca_dim):
    vectors = _clustered(1000)
    store = IndexStore(tmp_path)
    version, manifest = _build(store, vectors, IndexParams(trees=20, search_k=2000, pca_dim=pca_dim, rerank=100))
    assert manifest["items"] == 1000 and manifest["dim"] == 64 and manifest["index_dim"] == (pca_dim or 64)
    view = verify_index_version(store.version_dir(version))
    exact = ExactCatalogView(np.arange(1000, 2000), vectors, np.zeros((1000, 1)), np.zeros((1000, 1)))
    hits = 0
    for row in range(0, 1000, 50):
        got, sims = view.search(vectors[row], 10)
        want, want_sims = exact.search(vectors[row], 10)
        hits += len(set(got.tolist()) & set(want.tolist()))
        assert got[0] == 1000 + row and np.all(np.diff(sims) <= 1e-6)
        np.testing.assert_allclose(sims[0], want_sims[0], atol=1e-5)
    assert hits / (20 * 10) >= 0.95
    feats = view.features([1500, 5, 1001])
    assert feats.product_ids.tolist() == [1500, 1001]
    assert float(feats.spatial[0, 0, 0, 0]) == pytest.approx(0.5 * 500, rel=1e-2)
    assert 1999 in view and 2000 not in view and 1000 + 1000 not in view  # capacity rows are not items


def test_corrupt_version_fails_verification(tmp_path):
    store = IndexStore(tmp_path)
    version, _ = _build(store, _clustered(200), IndexParams(trees=5))
    with open(store.version_dir(version) / "index.ann", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff" * 64)
    with pytest.raises(IndexVerificationError, match="checksum"):
        verify_index_version(store.version_dir(version))


def test_pointer_swap_is_atomic_and_prune_keeps_current(tmp_path):
    store = IndexStore(tmp_path)
    assert store.current() is None and store.pointer_stamp() is None
    versions = [_build(store, _clustered(100, seed=i), IndexParams(trees=2))[0] for i in range(4)]
    store.set_current(versions[1])
    stamp = store.pointer_stamp()
    store.set_current(versions[3])
    assert store.current_version() == versions[3] and store.pointer_stamp() != stamp
    assert json.loads(store.pointer.read_text())["version"] == versions[3]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left behind
    deleted = store.prune(keep=2, protect={versions[0]})
    assert deleted == [versions[1], versions[2]]
    assert store.versions() == [versions[0], versions[3]]
    with pytest.raises(FileNotFoundError):
        store.set_current(versions[1])
    with pytest.raises(ValueError):
        store.version_dir("../etc")


def test_view_is_memory_mapped_and_rejects_bad_queries(tmp_path):
    store = IndexStore(tmp_path)
    version, _ = _build(store, _clustered(100), IndexParams(trees=2))
    view = AnnoyCatalogView(store.version_dir(version))
    assert isinstance(view.vectors, np.memmap) or isinstance(view.vectors.base, np.memmap)
    with pytest.raises(ValueError):
        view.search(np.zeros(64, np.float32), 3)
    with pytest.raises(ValueError):
        view.search(np.ones(10, np.float32), 3)
