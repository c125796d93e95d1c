"""Fusing ranked lists from several retrievers. Pure functions, no models.

Both take {chunk row: score} maps (higher is better), one per retriever, and
return [(row, fused score)] best first; ties break on the row number so the
order is deterministic.
"""

from __future__ import annotations

from typing import Mapping, Sequence

RRF_K = 60  # Cormack, Clarke & Buettcher (2009), "Reciprocal Rank Fusion…"


def best_first(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    """[(row, score)], best score first; ties break on the row number, so the order is
    deterministic. The one ranking rule of every retriever, fusion and depth cut."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def rank_of(scores: Mapping[int, float]) -> dict[int, int]:
    """1-based ranks, best score first."""
    return {row: rank for rank, (row, _) in enumerate(best_first(scores), start=1)}


def rrf(
    runs: Sequence[Mapping[int, float]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    weights = weights or [1.0] * len(runs)
    fused: dict[int, float] = {}
    for run, weight in zip(runs, weights):
        for row, rank in rank_of(run).items():
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return best_first(fused)


def weighted(
    runs: Sequence[Mapping[int, float]], weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Min-max normalise each run to [0, 1], then a weighted sum (missing = 0)."""
    weights = weights or [1.0 / len(runs)] * len(runs)
    fused: dict[int, float] = {}
    for run, weight in zip(runs, weights):
        if not run:
            continue
        low, high = min(run.values()), max(run.values())
        span = high - low
        for row, score in run.items():
            normalised = (score - low) / span if span > 0 else 1.0
            fused[row] = fused.get(row, 0.0) + weight * normalised
    return best_first(fused)


FUSIONS = {"rrf": rrf, "weighted": weighted}
