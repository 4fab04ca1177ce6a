"""Slate selection and masking helpers of the engine on constructed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.engine.masking import cell_coverage, fill_masked
from embeddings.engine.ranking.scoring import select_distinct


def test_selection_takes_the_best_scores_and_skips_near_duplicates_of_chosen_ones():
    scores = np.array([1.0, 0.95, 0.6, 0.95, -np.inf], dtype=np.float32)
    vectors = np.array([[1, 0], [1, 0], [0, 1], [0.6, 0.8], [0, 1]], dtype=np.float32)  # 1 duplicates 0
    assert select_distinct(scores, vectors, 2, 0.999) == [0, 3]  # 1 skipped; the tie 1 / 3 broken by index
    assert select_distinct(scores, vectors, 5, 0.999) == [0, 3, 2]  # -inf is never chosen
    assert select_distinct(scores, vectors, 5, 1.5) == [0, 1, 3, 2]  # nothing counts as a duplicate


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
