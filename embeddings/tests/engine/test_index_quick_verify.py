"""Readers of a large index version hash only the files whose damage can crash them (seconds at 1M products)."""

import os

import numpy as np
import pytest

from embeddings.engine.index import (
    IndexParams,
    IndexVerificationError,
    VersionWriter,
    annoy_view,
    verify_index_version,
)


@pytest.fixture
def version(tmp_path):
    rng = np.random.default_rng(0)
    n, dim = 300, 32
    writer = VersionWriter(tmp_path, capacity=n, dim=dim, spatial_shape=(2, 2, 4), colour_shape=(2, 2, 3))
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    writer.append(
        np.arange(1, n + 1),
        vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
        rng.normal(size=(n, 2, 2, 4)).astype(np.float16),
        rng.normal(size=(n, 2, 2, 3)).astype(np.float16),
    )
    writer.finish(IndexParams(trees=5), version="v1", backbone_version="fake")
    return tmp_path


def _scribble(path):
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(os.urandom(64))


def test_manifest_records_a_checksum_per_file(version):
    view = verify_index_version(version)
    assert set(view.manifest["file_checksums"]) == set(view.manifest["files"])


def test_small_versions_are_hashed_whole_even_for_readers(version):
    _scribble(version / "spatial.npy")
    with pytest.raises(IndexVerificationError, match="checksum"):
        verify_index_version(version, full=None)


def test_large_versions_skip_hashing_feature_arrays_for_readers_but_not_for_builds(version, monkeypatch):
    monkeypatch.setattr(annoy_view, "FULL_HASH_MAX_BULK_BYTES", 0)
    _scribble(version / "spatial.npy")
    verify_index_version(version, full=None)  # same size: a reader loads it (bad features, never a crash)
    with pytest.raises(IndexVerificationError, match="checksum"):
        verify_index_version(version, full=True)  # index_status --verify-all and builds still catch it


def test_large_versions_still_hash_the_annoy_file_for_readers(version, monkeypatch):
    monkeypatch.setattr(annoy_view, "FULL_HASH_MAX_BULK_BYTES", 0)
    _scribble(version / "index.ann")
    with pytest.raises(IndexVerificationError, match="checksum"):
        verify_index_version(version, full=None)
