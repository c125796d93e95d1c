"""Is anything in the index an answer? The "not found" decision the web chat and CLI show.

Measured on the dev questions (`python -m eval`, "not-found rule"), two signals work:
- the question names a place (市州 or county) that no indexed item covers: 眉山, 甘孜, 自贡
  never appear in the sample bulletins, so nothing there can answer "眉山市…";
- the best BM25 score is low: no passage shares the question's rarer words.
The top dense cosine barely separates answerable from unanswerable questions with this model
(0.908 against 0.905 at the medians), so it is reported but not used.
Fused hybrid scores are min-max normalised per query and say nothing about absolute fit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable

from index.engine import SearchEngine
from ingest.places import Place

# Chosen with `python -m eval` (README, "Not found"): a floor that refuses off-topic questions
# (no shared words) yet keeps 98 of 100 answerable dev questions. Higher floors refuse more
# near-miss questions but also real ones, "达州在年鉴质量方面做了什么决定" (top BM25 1.98) first.
DEFAULT_MIN_BM25 = 1.5
MIN_BM25_ENV = "BULLETIN_MIN_BM25"


def min_bm25_from_env() -> float:
    raw = os.environ.get(MIN_BM25_ENV)
    if not raw:
        return DEFAULT_MIN_BM25
    try:
        return float(raw)
    except ValueError:
        raise ValueError(
            f"{MIN_BM25_ENV}={raw!r} is not a number (e.g. {DEFAULT_MIN_BM25})"
        ) from None


@dataclass(frozen=True)
class Verdict:
    found: bool
    reason: str | None = None  # Chinese, for the user, when not found
    missing_places: tuple[str, ...] = ()
    signals: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "found": self.found,
            "reason": self.reason,
            "missing_places": list(self.missing_places),
            **self.signals,
        }


def judge(
    top_scores: dict[str, float],
    query_places: Iterable[Place],
    indexed_cities: set[str],
    min_bm25: float = DEFAULT_MIN_BM25,
) -> Verdict:
    """Decide from the raw top scores and the places the question names."""
    named = list(dict.fromkeys(query_places))
    missing = tuple(p.name for p in named if p.city not in indexed_cities)
    signals = {**top_scores, "min_bm25": min_bm25}
    if named and len(missing) == len(named):
        names = "、".join(missing)
        return Verdict(False, f"已收录的简报中没有关于{names}的条目", missing, signals)
    if top_scores.get("bm25_top_score", 0.0) < min_bm25:
        return Verdict(False, "没有与问题用词足够接近的段落", missing, signals)
    return Verdict(True, None, missing, signals)


def judge_question(engine: SearchEngine, query: str, min_bm25: float | None = None) -> Verdict:
    """Found or not found for a question over this index (min_bm25: None reads
    $BULLETIN_MIN_BM25)."""
    places = [m.place for m in engine.gazetteer.find_in_query(query)]
    floor = min_bm25_from_env() if min_bm25 is None else min_bm25
    return judge(engine.top_scores(query), places, engine.indexed_cities, floor)
