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


def confidence(run: Mapping[int, float], n: int = 10) -> float:
    """How far a run's best score stands above its n-th, as a share of the run's whole spread:
    near 1 when one passage clearly leads, near 0 when the top scores are a flat plateau."""
    scores = [score for _, score in best_first(run)]
    if len(scores) < 2 or scores[0] == scores[-1]:
        return 1.0
    return (scores[0] - scores[min(n, len(scores)) - 1]) / (scores[0] - scores[-1])


def confident(
    runs: Sequence[Mapping[int, float]], weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """`weighted`, the weights shared out per question by each run's confidence, so a retriever
    whose top is a plateau (the dense cosines often are) cannot outvote one with a clear lead.
    The shares keep the weights' total, so fused scores stay on `weighted`'s 0-1 scale (the
    precedent threshold reads them)."""
    weights = weights or [1.0 / len(runs)] * len(runs)
    scaled = [w * confidence(run) for run, w in zip(runs, weights)]
    total = sum(scaled)
    if total <= 0:
        return weighted(runs, weights)
    return weighted(runs, [w * sum(weights) / total for w in scaled])


FUSIONS = {"rrf": rrf, "weighted": weighted, "confident": confident}
