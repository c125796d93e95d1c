"""Vectors of every answer unit (sentence or enumerated clause), stored with the index.

A reply picks the units of the retrieved passages that answer the question best, by meaning:
the cosine of the question's vector (already computed for the dense search) with each
unit's vector. Embedding units at question time would cost seconds on two cores; embedded
at ingest (through the embedding cache, so unchanged files cost nothing on re-ingest),
answering is a dot product.

On disk (index/store.py writes and reads them): sentences.jsonl (one unit text per line,
distinct, in passage order) and sentence_vectors.npy (float32, row i = line i), both covered by
the manifest's checksums. An index built before units had vectors has neither; replies then
score by words alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from index.vector_index import row_dots
from ingest.model import Chunk
from ingest.sentences import answer_units


def unit_texts(chunks: Sequence[Chunk]) -> list[str]:
    """The distinct answer-unit texts of the passages, in passage and text order."""
    seen: dict[str, None] = {}
    for chunk in chunks:
        for start, end in answer_units(chunk.text):
            seen.setdefault(chunk.text[start:end])
    return list(seen)


@dataclass(frozen=True)
class SentenceVectors:
    rows: dict[str, int]  # unit text -> row of `matrix`
    matrix: np.ndarray  # (units, dim) float32, unit-normalised like the passage vectors

    @classmethod
    def of(cls, texts: Sequence[str], matrix: np.ndarray) -> "SentenceVectors":
        return cls({text: row for row, text in enumerate(texts)}, matrix)

    def __len__(self) -> int:
        return len(self.rows)

    def cosines(
        self,
        query_vector: np.ndarray,
        texts: Sequence[str],
        embed_missing: Callable[[list[str]], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Cosine of the query with each text's vector. A text without a stored vector (cut
        across two merged passages, say) is embedded by `embed_missing`, else scores NaN."""
        query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        out = np.full(len(texts), np.nan, dtype=np.float32)
        known = [(i, self.rows[t]) for i, t in enumerate(texts) if t in self.rows]
        if known:
            at, rows = zip(*known)
            out[list(at)] = row_dots(self.matrix[list(rows)], query)
        missing = [i for i, t in enumerate(texts) if t not in self.rows]
        if missing and embed_missing is not None:
            vectors = np.asarray(embed_missing([texts[i] for i in missing]), dtype=np.float32)
            out[missing] = row_dots(vectors, query)
        return out
