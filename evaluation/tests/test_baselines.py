"""Whole-item baselines (Qdrant-style recommend strategies) on constructed vectors."""

from __future__ import annotations

from embeddings.tests.engine.ranking.constructed import catalog
from evaluation.baselines import average_vector_slate, best_score_slate, sum_scores_slate


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


def test_best_score_counts_a_tie_as_negative_as_qdrant_does():
    # the seed (1) both positive and negative: every candidate's best positive equals its best negative
    tie = best_score_slate(_view(), positives=[1], negatives=[1], exclude=[1], k=4)
    assert all(item.score <= 0 for item in tie.items)  # nobody is positive-best
    view = _view()
    seed = view.features([1]).vectors[0]
    sims = {i: float(view.features([i]).vectors[0] @ seed) for i in tie.product_ids}
    assert tie.product_ids == sorted(sims, key=lambda i: sims[i])  # least like the disliked seed first


def test_sum_scores_adds_positive_and_subtracts_negative_similarities():
    view = _view()
    slate = sum_scores_slate(view, positives=[1], negatives=[4], exclude=[1, 4], k=3)
    vec = {i: view.features([i]).vectors[0] for i in (1, 2, 3, 4, 5)}
    expected = {i: float(vec[i] @ vec[1] - vec[i] @ vec[4]) for i in (2, 3, 5)}
    assert slate.product_ids == sorted(expected, key=lambda i: -expected[i])
    assert [round(item.score, 5) for item in slate.items] == [round(expected[i], 5) for i in slate.product_ids]
