"""ExactCatalogView: brute-force cosine search and feature lookup, no database."""

import numpy as np
import pytest

from embeddings.engine.index.exact import ExactCatalogView


def _random_view(n: int = 50, seed: int = 0) -> ExactCatalogView:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    spatial = rng.normal(size=(n, 7, 7, 4)).astype(np.float16)
    colours = rng.normal(size=(n, 7, 7, 3)).astype(np.float16)
    return ExactCatalogView(np.arange(100, 100 + n), vectors, spatial, colours)


def test_search_returns_self_first_and_matches_brute_force():
    view = _random_view()
    query = view.vectors[7] * 3.0  # scale must not matter for cosine
    ids, sims = view.search(query, 5)
    expected = np.argsort(-(view.vectors @ view.vectors[7]))[:5] + 100
    assert ids.dtype == np.int64 and sims.dtype == np.float32
    assert ids.tolist() == expected.tolist()
    assert ids[0] == 107 and sims[0] == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.diff(sims) <= 0)


def test_search_k_larger_than_catalog_and_empty_catalog():
    view = _random_view(n=4)
    ids, _ = view.search(view.vectors[0], 10)
    assert sorted(ids.tolist()) == [100, 101, 102, 103]
    empty = ExactCatalogView([], np.zeros((0, 16), np.float32), np.zeros((0, 7, 7, 4)), np.zeros((0, 7, 7, 3)))
    ids, sims = empty.search(np.ones(16, np.float32), 3)
    assert len(ids) == 0 and len(sims) == 0


def test_features_in_requested_order_unknown_left_out():
    view = _random_view()
    feats = view.features([130, 999, 101])
    assert feats.product_ids.tolist() == [130, 101]
    np.testing.assert_array_equal(feats.vectors[0], view.vectors[30])
    np.testing.assert_array_equal(feats.spatial[1], view.spatial[1])
    assert feats.colours.shape == (2, 7, 7, 3)
    assert 130 in view and 999 not in view and "x" not in view


def test_bad_input_is_refused_clearly():
    view = _random_view()
    with pytest.raises(ValueError, match="non-zero"):
        view.search(np.zeros(16, np.float32), 3)
    with pytest.raises(ValueError, match="rows"):
        ExactCatalogView([1, 2], np.ones((2, 4)), np.ones((1, 7, 7, 4)), np.ones((2, 7, 7, 3)))
