"""Retrievers over one loaded index: BM25, dense (FAISS) and their fusion.

All three follow the `Retriever` protocol: `scores(query, rows, depth, keep)` -> {row: score}
(what understood search, answer/ask.py, ranks) and `search(query, k, filters)` -> list[Hit]
(the plain search, built on scores). Filters are applied before ranking, so a filtered
search returns the best k matching chunks rather than whatever survived from an unfiltered top k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Collection, Protocol, Sequence

import numpy as np

from index.fusion import FUSIONS, best_first
from index.tokenizer import Tokenizer
from ingest.model import Chunk


@dataclass(frozen=True)
class Filters:
    cities: tuple[str, ...] = ()  # full names; a city includes its counties
    places: tuple[str, ...] = ()  # county labels "达州市 › 大竹县"
    date_from: str | None = None  # ISO, inclusive
    date_to: str | None = None
    sections: tuple[str, ...] = ()

    def active(self) -> bool:
        return bool(self.cities or self.places or self.date_from or self.date_to or self.sections)

    def matches(self, chunk: Chunk) -> bool:
        meta = chunk.meta
        if self.cities and not set(self.cities) & set(meta.cities):
            return False
        if self.places and not set(self.places) & set(meta.places):
            return False
        if self.sections and meta.section not in self.sections:
            return False
        if self.date_from or self.date_to:
            span = date_range(chunk)
            if span is None:
                return False  # unknown date: cannot be shown as inside the range
            low, high = span
            if self.date_from and high < self.date_from:
                return False
            if self.date_to and low > self.date_to:
                return False
        return True


def place_filters(names, gazetteer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names a user gave (达州, 达州市, Dazhou, 大竹县) as Filters' (cities, places): a city by
    its full name (it includes its counties), a county by its label. KeyError(name) for an
    unknown one."""
    cities, places = [], []
    for name in names:
        place = gazetteer.resolve(name)
        if place is None:
            raise KeyError(name)
        if place.level == "city":
            cities.append(place.name)
        else:
            places.append(place.label)
    return tuple(cities), tuple(places)


def date_range(chunk: Chunk) -> tuple[str, str] | None:
    """The event dates a chunk reports, else its bulletin's date."""
    dates = chunk.meta.known_dates
    return (min(dates), max(dates)) if dates else None


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    row: int
    why: dict[str, Any] = field(default_factory=dict)  # per-retriever rank/score


class Retriever(Protocol):
    """BM25, dense and hybrid retrieval: all that SearchEngine and answer/ask.py use."""

    name: str

    def scores(
        self,
        query: str,
        rows: np.ndarray | None = None,
        depth: int | None = None,
        keep: Collection[int] | None = None,
    ) -> dict[int, float]:
        """{row: score}, higher is better, for the best `depth` of the allowed rows (`rows`;
        None: every row), or for all of them when depth is None. BM25 and dense give raw
        scores (BM25: > 0 only), hybrid the fusion of its two retrievers' runs at that depth.

        keep: rows that stay below the depth cut (each allowed row of it that scores), so a
        passage that earns a bonus is never lost. When keep is given (even empty), every
        allowed row is scored and the cut is exact: best score first, ties to the lower row."""
        ...

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]: ...


def allowed_rows(chunks: Sequence[Chunk], filters: Filters | None) -> np.ndarray | None:
    if not filters or not filters.active():
        return None
    return np.array([i for i, c in enumerate(chunks) if filters.matches(c)], dtype=np.int64)


def cut(
    scores: dict[int, float], depth: int | None, keep: Collection[int] | None = None
) -> dict[int, float]:
    """The best `depth` of scores (ties to the lower row; all when depth is None), plus every
    row of keep that has a score."""
    if depth is None or len(scores) <= depth:
        return scores
    run = dict(best_first(scores)[:depth])
    run.update({row: scores[row] for row in keep or () if row in scores})
    return run


def top_hits(chunks: Sequence[Chunk], scores: dict[int, float], k: int, name: str) -> list[Hit]:
    ordered = best_first(scores)[:k]
    return [
        Hit(chunks[row], float(score), row, {name: {"rank": r, "score": float(score)}})
        for r, (row, score) in enumerate(ordered, 1)
    ]


class BM25Retriever:
    name = "bm25"

    def __init__(self, bm25, tokenizer: Tokenizer, chunks: Sequence[Chunk]):
        self.bm25, self.tokenizer, self.chunks = bm25, tokenizer, chunks

    def scores(
        self,
        query: str,
        rows: np.ndarray | None = None,
        depth: int | None = None,
        keep: Collection[int] | None = None,
    ) -> dict[int, float]:
        if self.bm25 is None:
            return {}
        vocab = self.bm25.vocab_dict
        tokens = [t for t in self.tokenizer(query) if t in vocab]
        if not tokens:
            return {}
        all_scores = self.bm25.get_scores(tokens)
        candidates = rows if rows is not None else np.arange(len(all_scores))
        picked = {int(r): float(all_scores[r]) for r in candidates if all_scores[r] > 0}
        return cut(picked, depth, keep)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        return top_hits(
            self.chunks, self.scores(query, allowed_rows(self.chunks, filters)), k, self.name
        )


class DenseRetriever:
    name = "dense"

    def __init__(self, faiss_index, embedder, chunks: Sequence[Chunk]):
        self.faiss_index, self.embedder, self.chunks = faiss_index, embedder, chunks
        # One question is embedded once, though search and the not-found check both ask.
        self.query_vector = lru_cache(maxsize=256)(self._embed_query)

    def _embed_query(self, query: str) -> np.ndarray:
        vector = self.embedder.embed_queries([query]).astype(np.float32)
        vector.setflags(write=False)  # shared between callers through the cache
        return vector

    def scores(
        self,
        query: str,
        rows: np.ndarray | None = None,
        depth: int | None = None,
        keep: Collection[int] | None = None,
    ) -> dict[int, float]:
        total = self.faiss_index.ntotal
        if total == 0 or (rows is not None and len(rows) == 0):
            return {}
        vector = self.query_vector(query)
        exact = keep is not None or depth is None  # every allowed row scored, then cut
        # With a filter, rank every vector and keep the allowed ones (flat index: cheap).
        want = total if rows is not None or exact else min(depth, total)
        sims, ids = self.faiss_index.search(vector, want)
        allowed = set(rows.tolist()) if rows is not None else None
        picked = {}
        for row, sim in zip(ids[0], sims[0]):
            if row >= 0 and (allowed is None or row in allowed):
                picked[int(row)] = float(sim)
                if not exact and len(picked) >= depth:
                    break  # FAISS's own order: the plain search's cut
        return cut(picked, depth, keep) if exact else picked

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        return top_hits(
            self.chunks,
            self.scores(query, allowed_rows(self.chunks, filters), depth=max(k, 50)),
            k,
            self.name,
        )


class HybridRetriever:
    name = "hybrid"

    def __init__(
        self,
        bm25: BM25Retriever,
        dense: DenseRetriever,
        fusion: str = "rrf",
        depth: int = 50,
        weights: Sequence[float] | None = None,
    ):
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; choose one of: {', '.join(FUSIONS)}")
        self.bm25, self.dense, self.fusion, self.depth, self.weights = (
            bm25,
            dense,
            fusion,
            depth,
            weights,
        )

    def runs(
        self,
        query: str,
        rows: np.ndarray | None,
        depth: int | None,
        keep: Collection[int] | None = None,
    ) -> list[dict[int, float]]:
        return [
            self.bm25.scores(query, rows, depth, keep),
            self.dense.scores(query, rows, depth, keep),
        ]

    def scores(
        self,
        query: str,
        rows: np.ndarray | None = None,
        depth: int | None = None,
        keep: Collection[int] | None = None,
    ) -> dict[int, float]:
        """The fused score (self.fusion, self.weights) of every row in either retriever's run."""
        return dict(FUSIONS[self.fusion](self.runs(query, rows, depth, keep), weights=self.weights))

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        rows = allowed_rows(self.bm25.chunks, filters)
        runs = self.runs(query, rows, max(k, self.depth))
        fused = FUSIONS[self.fusion](runs, weights=self.weights)[:k]
        hits = []
        for row, score in fused:
            why = {
                name: {"score": run[row]}
                for name, run in zip(("bm25", "dense"), runs)
                if row in run
            }
            hits.append(Hit(self.bm25.chunks[row], float(score), row, why))
        return hits
