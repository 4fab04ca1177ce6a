"""MMR and masking helpers of the engine on constructed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.engine.masking import cell_coverage, fill_masked
from embeddings.engine.ranking.mmr import mmr_select


def test_mmr_trades_relevance_for_variety():
    scores = np.array([1.0, 0.95, 0.6], dtype=np.float32)
    similarity = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=np.float32)
    assert mmr_select(scores, similarity, 2, diversity=0.0) == [0, 1]
    assert mmr_select(scores, similarity, 2, diversity=0.5) == [0, 2]
    duplicate = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)
    assert mmr_select(scores, np.zeros((3, 3), np.float32), 3, 0.0, duplicate) == [0, 2]


def test_cell_coverage_and_fill_strategies():
    mask = np.zeros((28, 28), dtype=bool)
    mask[:14, :14] = True
    cov = cell_coverage(mask, 7)
    assert cov.shape == (7, 7) and cov[:3, :3].min() == 1.0 and cov[4:, :].max() == 0.0
    assert np.isclose(cov[3, 0], 0.5)
    image = np.full((28, 28, 3), 255, dtype=np.uint8)
    image[5:20, 5:20] = (200, 0, 0)
    for strategy in ("background", "blur", "mean", "white"):
        out = fill_masked(image, mask, strategy)
        assert (out[~mask] == image[~mask]).all()
        assert not (out[mask] == image[mask]).all()
    assert (fill_masked(image, mask, "background")[mask] == 255).all()
    with pytest.raises(ValueError):
        fill_masked(image, mask, "sparkles")
