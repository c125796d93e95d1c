"""Fusion is a pure function: checked on tiny hand-computed runs."""

import pytest

from index.fusion import rank_of, rrf, weighted


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
