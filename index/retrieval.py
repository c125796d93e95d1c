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

import faiss
import numpy as np

from index.bm25_segments import word_idf
from index.filters import Filters, LazyFilterColumns
from index.fusion import FUSIONS, best_first
from index.passage_units import UNIT_POOL, PassageUnits, pool_depth
from index.tokenizer import Tokenizer
from index.vector_index import (
    EXACT_ROWS,
    RERANK,
    is_exact,
    nprobe_for,
    row_dots,
    vectors_in_place,
)
from ingest.model import Chunk


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
        None: every row), or for all of them when depth is None. BM25 (rows holding a word of
        the question only) and dense give their own scores, each passage of the best
        UNIT_POOL also scored by its best answer unit (index/passage_units.py); hybrid the
        fusion of its two retrievers' runs at that depth. Raw scores: best_raw.

        keep: rows that earn a bonus (answer/ask.py): the best `depth` allowed rows of keep
        are candidates too, below the cut, so a boosted passage is not lost behind unboosted
        ones, while a question naming a big city or a year ranks at most 2 x depth rows, not
        every passage of that city or year (issue 12: an archive of 1M passages)."""
        ...

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]: ...


def top_rows(rows: np.ndarray, values: np.ndarray, depth: int | None) -> np.ndarray:
    """Positions into rows/values of the best `depth` (all when None), best value first, ties
    to the lower row: best_first's rule, in numpy (argpartition, no Python loop over rows)."""
    if depth is not None and len(values) > depth:
        if depth <= 0:
            return np.empty(0, dtype=np.int64)
        threshold = -np.partition(-values, depth - 1)[depth - 1]  # the depth-th best value
        above = np.flatnonzero(values > threshold)
        tied = np.flatnonzero(values == threshold)
        tied = tied[np.argsort(rows[tied], kind="stable")][: depth - len(above)]
        chosen = np.concatenate([above, tied])
    else:
        chosen = np.arange(len(values))
    return chosen[np.lexsort((rows[chosen], -values[chosen]))]


def as_rows(keep: Collection[int] | None) -> np.ndarray:
    """Kept rows as a sorted int64 array (a set, a list or an array may come in)."""
    if keep is None or not len(keep):
        return np.empty(0, dtype=np.int64)
    if isinstance(keep, np.ndarray):
        rows = keep.astype(np.int64, copy=False)
        # already sorted and distinct (the filter columns' rows, or an earlier as_rows): as is;
        # sorting a big city's 100 000 rows again cost ~8 ms a call at a million passages
        return rows if bool(np.all(rows[1:] > rows[:-1])) else np.unique(rows)
    return np.unique(np.fromiter(keep, dtype=np.int64, count=len(keep)))


def run_of(
    rows: np.ndarray,
    values: np.ndarray,
    depth: int | None,
    keep: Collection[int] | None = None,
) -> dict[int, float]:
    """{row: value} for the best `depth` of rows (all when depth is None; best_first's order and
    ties), plus the best `depth` of those rows that are in keep: Retriever.scores' cut. Only
    those rows become Python objects."""
    if depth is None or len(values) <= depth:
        chosen = np.arange(len(values))
    else:
        chosen = top_rows(rows, values, depth)
        wanted = as_rows(keep)
        if len(wanted):
            kept = np.flatnonzero(np.isin(rows, wanted))
            chosen = np.union1d(chosen, kept[top_rows(rows[kept], values[kept], depth)])
    return dict(zip(rows[chosen].tolist(), values[chosen].astype(float).tolist()))


def units_read(rows: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Which passages of a run are rescored with their answer units (a mask over rows): its
    best UNIT_POOL by their own score, kept rows or not. The rest (a boosted row further down,
    a precedent list's 500) keep their own score, so a question reads at most UNIT_POOL
    passages a retriever, whatever the archive's size (index/passage_units.py)."""
    read = np.zeros(len(rows), dtype=bool)
    read[top_rows(rows, own, UNIT_POOL)] = True
    return read


def top_hits(chunks: Sequence[Chunk], scores: dict[int, float], k: int, name: str) -> list[Hit]:
    ordered = best_first(scores)[:k]
    return [
        Hit(chunks[row], float(score), row, {name: {"rank": r, "score": float(score)}})
        for r, (row, score) in enumerate(ordered, 1)
    ]


@dataclass(frozen=True)
class _Question:
    """A question as BM25 reads it: its words (each as its forms in the index), their idf, and
    every passage's score."""

    words: list[tuple[str, ...]]
    weights: np.ndarray
    scores: np.ndarray
    coverage: dict[int, float] = field(default_factory=dict)  # passage row -> best unit's


class BM25Retriever:
    name = "bm25"

    def __init__(
        self,
        bm25,
        tokenizer: Tokenizer,
        chunks: Sequence[Chunk],
        columns: LazyFilterColumns | None = None,
        units: PassageUnits | None = None,
    ):
        """units: the passages' answer units (index/passage_units.py): a passage then scores
        its share of the best allowed passage's score, part of it its best unit's coverage of
        the question's words; None: its BM25 score."""
        self.bm25, self.tokenizer, self.chunks = bm25, tokenizer, chunks
        self.columns = columns or LazyFilterColumns(chunks)
        self.units = units
        # a question is read once though an answer scores it several times (the search, the
        # not-found check, a precedent list; 4 MB a question at a million passages)
        self._question = lru_cache(maxsize=4)(self._read_question)

    def _read_question(self, query: str) -> _Question | None:
        if self.bm25 is None:
            return None
        words = self.tokenizer.query_words(query, self.bm25.vocab_dict)
        if not words:
            return None
        weights = np.array([max(word_idf(self.bm25, f) for f in forms) for forms in words])
        return _Question(words, weights, sum(self._word_scores(forms) for forms in words))

    def scores(
        self,
        query: str,
        rows: np.ndarray | None = None,
        depth: int | None = None,
        keep: Collection[int] | None = None,
    ) -> dict[int, float]:
        question = self._question(query)
        if question is None:
            return {}
        all_scores = question.scores
        if rows is None:
            candidates = np.flatnonzero(all_scores > 0)
        else:
            candidates = rows[all_scores[rows] > 0]
        values = all_scores[candidates]
        if self.units is None or not len(candidates):
            return run_of(candidates, values, depth, keep)
        # every passage units_read picks is in the pool, so a run's rows and scores do not
        # depend on its depth
        keep = as_rows(keep)  # once for the pool and the cut
        pool = run_of(candidates, values, None if depth is None else pool_depth(depth), keep)
        rows = np.fromiter(pool, dtype=np.int64, count=len(pool))
        own = np.fromiter(pool.values(), dtype=np.float32, count=len(pool))
        top = float(values.max())
        rescored = self.units.lexical(own, top, np.zeros_like(own))  # no unit read: none held
        read = units_read(rows, own)
        rescored[read] = self._lexical(question, rows[read], own[read], top)
        return run_of(rows, rescored, depth, keep)

    def _lexical(
        self, question: _Question, rows: np.ndarray, own: np.ndarray, top: float
    ) -> np.ndarray:
        """units.lexical, each passage's coverage computed once per question (an answer scores
        a question several times: the search, a precedent list)."""
        memo = question.coverage
        missing = np.array([r for r in rows.tolist() if r not in memo], dtype=np.int64)
        if len(missing):
            found = self.units.best_coverage(question.words, question.weights, missing)
            memo.update(zip(missing.tolist(), found.tolist()))
        coverage = np.array([memo[r] for r in rows.tolist()], dtype=np.float32)
        return self.units.lexical(own, top, coverage)

    def best_raw(self, query: str) -> float:
        """The best passage's BM25 score, without its units: what "not found" reads."""
        question = self._question(query)
        return float(question.scores.max()) if question is not None else 0.0

    def _word_scores(self, forms: tuple[str, ...]) -> np.ndarray:
        """Every passage's BM25 score for one question word: its best-scoring form (a passage
        with 广安市 or only 广安 both match "广安市", the word counting once)."""
        if len(forms) == 1:
            return self.bm25.get_scores(list(forms))
        return np.max([self.bm25.get_scores([form]) for form in forms], axis=0)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        # depth k: the same top k as scoring every row, without ranking them all
        return top_hits(
            self.chunks, self.scores(query, self.columns.allowed(filters), depth=k), k, self.name
        )


class DenseRetriever:
    name = "dense"

    def __init__(
        self,
        faiss_index,
        embedder,
        chunks: Sequence[Chunk],
        columns: LazyFilterColumns | None = None,
        matrix: np.ndarray | None = None,
        units: PassageUnits | None = None,
    ):
        """matrix: the exact vectors (StoredIndex.vectors); needed beside an approximate
        index, read in place from a flat one when not given. units: the passages' answer
        units (index/passage_units.py): a passage scores the mean of its own cosine and its
        best unit's; None or units without vectors (an index built before they were
        stored): its own cosine."""
        self.faiss_index, self.embedder, self.chunks = faiss_index, embedder, chunks
        self.units = units if units is not None and units.has_vectors else None
        self.columns = columns or LazyFilterColumns(chunks)
        self.exact = is_exact(faiss_index)
        self.nprobe = 0 if self.exact else nprobe_for(faiss_index)
        self.matrix = vectors_in_place(faiss_index) if matrix is None else matrix
        if not self.exact and self.matrix is None:
            raise ValueError("an approximate vector index needs its exact vectors (matrix)")
        # rows a restricted search scores from their own vectors instead of searching the index
        self.exact_rows = EXACT_ROWS
        if self.exact and self.matrix is not None:  # in memory: cheaper than a scan up to half
            self.exact_rows = len(self.matrix) // 2
        # One question is embedded once, though search, the not-found check, a re-ask with a
        # part unticked and an evaluation's several modes all ask (1.5 KB a question).
        self.query_vector = lru_cache(maxsize=4096)(self._embed_query)

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
        if depth is None:  # every allowed row
            every = np.arange(total, dtype=np.int64) if rows is None else rows
            own = row_dots(self.matrix[every], vector[0])
            if self.units is not None:
                return self._with_units(vector, every, own, None, keep)
            return run_of(every, own, None)
        pool = depth if self.units is None else pool_depth(depth)
        found = self._best(vector, rows, pool)
        wanted = as_rows(keep)
        wanted = wanted[(wanted >= 0) & (wanted < total)]  # rows of this index only
        if len(wanted):
            found.update(
                self._best(vector, wanted if rows is None else np.intersect1d(wanted, rows), pool)
            )
        if self.units is None:
            return found
        rows = np.fromiter(found, dtype=np.int64, count=len(found))
        own = np.fromiter(found.values(), dtype=np.float32, count=len(found))
        return self._with_units(vector, rows, own, depth, keep)

    def best_raw(self, query: str) -> float:
        """The best passage's own cosine, without its units: what "not found" reads."""
        return max(self._best(self.query_vector(query), None, 1).values(), default=0.0)

    def _with_units(
        self,
        vector: np.ndarray,
        rows: np.ndarray,
        own: np.ndarray,
        depth: int | None,
        keep: Collection[int] | None,
    ) -> dict[int, float]:
        """The rows (own: their cosines), those units_read picks rescored with their best
        unit, cut like run_of."""
        rescored = own.astype(np.float32)
        read = units_read(rows, own)
        rescored[read] = self.units.dense(vector[0], rows[read], own[read])
        return run_of(rows, rescored, depth, keep)

    def _best(self, vector: np.ndarray, rows: np.ndarray | None, depth: int) -> dict[int, float]:
        """The best `depth` of the rows (None: of all). A few rows (a city's, the boosted ones)
        are scored from their own vectors; otherwise FAISS searches (rows as an ID selector, so
        it never ranks the whole index), and an approximate index's best RERANK candidates are
        scored exactly: every score returned is the exact cosine."""
        want = min(depth, self.faiss_index.ntotal if rows is None else len(rows))
        if want <= 0:
            return {}
        if rows is not None and self.matrix is not None and len(rows) <= self.exact_rows:
            return self._exact(vector, rows, want)
        selector = None if rows is None else faiss.IDSelectorBatch(rows)
        if self.exact:
            params = None if selector is None else faiss.SearchParameters(sel=selector)
            sims, ids = self.faiss_index.search(vector, want, params=params)
            found = ids[0] >= 0
            return dict(zip(ids[0][found].tolist(), sims[0][found].astype(float).tolist()))
        params = faiss.SearchParametersIVF(nprobe=self.nprobe, sel=selector)
        _, ids = self.faiss_index.search(vector, max(want, RERANK), params=params)
        return self._exact(vector, np.sort(ids[0][ids[0] >= 0]), want)

    def _exact(self, vector: np.ndarray, rows: np.ndarray, want: int) -> dict[int, float]:
        return run_of(rows, row_dots(self.matrix[rows], vector[0]), want)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        return top_hits(
            self.chunks,
            self.scores(query, self.columns.allowed(filters), depth=max(k, 50)),
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
        rows = self.bm25.columns.allowed(filters)
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
