"""Whole-item baselines, MMR, masking helpers, and the engine's independence from Django."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from embeddings.engine.masking import cell_coverage, fill_masked
from embeddings.engine.ranking.baselines import average_vector_slate, best_score_slate
from embeddings.engine.ranking.mmr import mmr_select
from embeddings.tests.engine.ranking.constructed import catalog


def _view():
    # 1 = seed; 2 leans towards +y, 3 towards -y; 4 = far +y, the disliked seed direction
    return catalog([[1, 0, 0], [1, 0.3, 0], [1, -0.3, 0], [0.2, 1, 0], [0.2, -1, 0.1]])


def test_average_vector_moves_away_from_the_negatives():
    view = _view()
    plain = average_vector_slate(view, positives=[1], negatives=[], exclude=[1, 4], k=2)
    steered = average_vector_slate(view, positives=[1], negatives=[4], exclude=[1, 4], k=2)
    assert plain.product_ids[0] in (2, 3)
    assert steered.product_ids[0] == 3 and steered.product_ids.index(3) < steered.product_ids.index(2)
    cancel = average_vector_slate(view, positives=[1], negatives=[1], exclude=[1], k=3)
    assert cancel.product_ids == average_vector_slate(view, positives=[1], negatives=[], exclude=[1], k=3).product_ids


def test_best_score_ranks_positive_best_candidates_above_negative_best_ones():
    slate = best_score_slate(_view(), positives=[1], negatives=[4], exclude=[1, 4], k=3)
    # 2 and 3 are closest to the positive; 5 is closer to the positive than to the negative too
    assert slate.product_ids[:2] == [2, 3] or slate.product_ids[:2] == [3, 2]
    neg = best_score_slate(_view(), positives=[5], negatives=[2], exclude=[5, 2], k=3)
    assert neg.product_ids[-1] == 1  # 1 is best matched by the negative (2): ranked last
    assert all(item.score > neg.items[-1].score for item in neg.items[:-1])


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


def test_engine_package_never_imports_django_or_celery():
    code = (
        "import sys, pkgutil, importlib, embeddings.engine as e\n"
        "for m in ['embeddings.engine.recommender', 'embeddings.engine.masking', 'embeddings.engine.ranking.scoring',"
        " 'embeddings.engine.ranking.baselines', 'feedback.evaluation.evaluate', 'feedback.evaluation.cli',"
        " 'feedback.evaluation.standalone']:\n"
        "    importlib.import_module(m)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'rest_framework')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[3]))
