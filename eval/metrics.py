"""Recall@k, MRR@k and nDCG@k over evidence-judged rankings.

Several gold items (a precedent question) are several evidence strings; a
passage holding one counts once for it, a later passage holding the same one
adds nothing.
"""

from __future__ import annotations

import math


def recall_at(found: list[set[int]], n_gold: int, k: int) -> float:
    seen = set().union(*found[:k]) if found[:k] else set()
    return len(seen) / n_gold


def mrr_at(found: list[set[int]], k: int) -> float:
    for rank, hits in enumerate(found[:k], start=1):
        if hits:
            return 1.0 / rank
    return 0.0


def ndcg_at(found: list[set[int]], n_gold: int, k: int) -> float:
    seen: set[int] = set()
    dcg = 0.0
    for rank, hits in enumerate(found[:k], start=1):
        new = hits - seen
        if new:
            dcg += 1.0 / math.log2(rank + 1)
            seen |= new
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_gold, k) + 1))
    return dcg / ideal if ideal else 0.0


def question_metrics(found: list[set[int]], n_gold: int) -> dict[str, float]:
    return {
        "recall@1": recall_at(found, n_gold, 1),
        "recall@5": recall_at(found, n_gold, 5),
        "recall@10": recall_at(found, n_gold, 10),
        "mrr@10": mrr_at(found, 10),
        "ndcg@10": ndcg_at(found, n_gold, 10),
    }


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: sum(r[key] for r in rows) / len(rows) for key in rows[0]}
