"""Fusion is a pure function: checked on tiny hand-computed runs."""

import pytest

from index.fusion import confidence, confident, rank_of, rrf, weighted


def test_rank_of_breaks_ties_by_row():
    assert rank_of({3: 1.0, 1: 1.0, 2: 5.0}) == {2: 1, 1: 2, 3: 3}


def test_rrf_hand_computed():
    bm25 = {10: 9.0, 20: 5.0}  # ranks 10->1, 20->2
    dense = {20: 0.9, 30: 0.8}  # ranks 20->1, 30->2
    fused = dict(rrf([bm25, dense], k=60))
    assert fused[20] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[10] == pytest.approx(1 / 61)
    assert fused[30] == pytest.approx(1 / 62)
    assert [row for row, _ in rrf([bm25, dense])] == [20, 10, 30]


def test_weighted_min_max():
    fused = dict(weighted([{1: 10.0, 2: 0.0}, {2: 0.5, 3: 0.25}], weights=[0.5, 0.5]))
    assert fused[1] == pytest.approx(0.5)
    assert fused[2] == pytest.approx(0.5)
    assert fused[3] == pytest.approx(0.0)


def test_empty_runs():
    assert rrf([{}, {}]) == []
    assert weighted([{}, {5: 1.0}]) == [(5, pytest.approx(0.5))]


def test_confidence_is_the_leads_share_of_the_spread():
    assert confidence({1: 10.0, 2: 2.0, 3: 0.0}, n=2) == pytest.approx(0.8)
    assert confidence({1: 0.9, 2: 0.9, 3: 0.1}, n=2) == pytest.approx(0.0)  # a plateau
    assert confidence({1: 1.0}) == 1.0


def test_confident_shares_the_weights_by_confidence():
    clear = {1: 10.0, **{row: 0.0 for row in range(2, 12)}}  # confidence 1
    plateau = {**{row: 0.9 for row in range(2, 12)}, 1: 0.0}  # ten tied at the top: 0
    fused = dict(confident([clear, plateau]))
    assert fused[1] == pytest.approx(1.0) and fused[2] == pytest.approx(0.0)  # plateau unheard
    # equally confident runs: the plain weighted fusion, on the same 0-1 scale
    runs = [{1: 10.0, 2: 0.0}, {2: 0.5, 3: 0.25}]
    assert confident(runs) == weighted(runs)
