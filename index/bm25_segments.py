"""BM25 over an index's base and its segments (index/segments.py), scored as one collection.

The base is a bm25s index whose stored scores already hold each word's idf, computed over the
base alone. A segment is a few added bulletins' tokens, scored at question time (a few thousand
passages at most). So that a passage scores the same wherever it is stored, every word's idf
is taken over the whole collection: the base's stored scores are rescaled by the ratio of the
whole collection's idf to the base's, and a segment's passages are scored with that idf and the
base's average passage length. What is left of the difference from a rebuilt index is the
average length, which a merge brings up to date (docs/benchmarks.md, "Segments").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass

import numpy as np

K1, B = 1.5, 0.75  # bm25s' defaults, which index/bm25_builder.py keeps


def lucene_idf(frequency: int, documents: int) -> float:
    """bm25s' default ("lucene") idf."""
    return float(np.log(1 + (documents - frequency + 0.5) / (frequency + 0.5)))


@dataclass(frozen=True)
class Postings:
    """A segment's passages as word -> (rows, term counts), with each passage's length."""

    by_word: dict[str, tuple[np.ndarray, np.ndarray]]
    lengths: np.ndarray

    @classmethod
    def of(cls, tokens: Sequence[Sequence[str]]) -> "Postings":
        rows: dict[str, list[int]] = {}
        counts: dict[str, list[int]] = {}
        for row, passage in enumerate(tokens):
            for word, count in Counter(passage).items():
                rows.setdefault(word, []).append(row)
                counts.setdefault(word, []).append(count)
        by_word = {
            word: (np.array(rows[word], dtype=np.int64), np.array(counts[word], dtype=np.float32))
            for word in rows
        }
        return cls(by_word, np.array([len(p) for p in tokens], dtype=np.float32))

    def frequency(self, word: str) -> int:
        found = self.by_word.get(word)
        return 0 if found is None else len(found[0])


class _Vocabulary(Container):
    """The words of the base and of the segments (a question's words are looked up in it)."""

    def __init__(self, base: Container[str], extra: Container[str]):
        self.base, self.extra = base, extra

    def __contains__(self, word: object) -> bool:
        return word in self.base or word in self.extra


class SegmentedBM25:
    """What the retrievers ask of a bm25s index (vocab_dict, get_scores), over base + segments.
    base: a bm25s index (None when the base has no passages); segments: each segment's tokens,
    in row order; average_length: the base's mean passage length in tokens."""

    def __init__(self, base, segments: Sequence[Sequence[Sequence[str]]], average_length: float):
        self.base = base
        self.base_documents = int(base.scores["num_docs"]) if base is not None else 0
        self.extra = Postings.of([passage for segment in segments for passage in segment])
        self.documents = self.base_documents + len(self.extra.lengths)
        self.average_length = float(average_length) or 1.0
        base_words = base.vocab_dict if base is not None else {}
        self.vocab_dict = _Vocabulary(base_words, self.extra.by_word)

    def base_frequency(self, word: str) -> int:
        return 0 if self.base is None else _bm25s_frequency(self.base, word)

    def frequency(self, word: str) -> int:
        """Passages of the whole collection holding the word."""
        return self.base_frequency(word) + self.extra.frequency(word)

    def get_scores(self, words: Sequence[str]) -> np.ndarray:
        """Every passage's BM25 score for the words (summed), base rows then segment rows."""
        out = np.zeros(self.documents, dtype=np.float32)
        for word in words:
            in_base, in_extra = self.base_frequency(word), self.extra.frequency(word)
            if not in_base and not in_extra:
                continue
            idf = lucene_idf(in_base + in_extra, self.documents)
            if in_base:
                rescale = idf / lucene_idf(in_base, self.base_documents)
                out[: self.base_documents] += self.base.get_scores([word]) * np.float32(rescale)
            if in_extra:
                rows, counts = self.extra.by_word[word]
                norm = K1 * (1 - B + B * self.extra.lengths[rows] / self.average_length)
                out[self.base_documents + rows] += idf * counts / (counts + norm)
        return out

    def document_frequencies(self) -> tuple[dict[str, int], int]:
        """{word: passages holding it} and the passages: what replies weigh words by."""
        frequency = base_document_frequencies(self.base)[0] if self.base is not None else {}
        for word, (rows, _) in self.extra.by_word.items():
            frequency[word] = frequency.get(word, 0) + len(rows)
        return frequency, self.documents


def _bm25s_frequency(bm25, word: str) -> int:
    """Passages of a bm25s index holding the word (its stored scores' column length)."""
    column = bm25.vocab_dict.get(word)
    indptr = bm25.scores["indptr"]
    if column is None or column + 1 >= len(indptr):
        return 0
    return int(indptr[column + 1] - indptr[column])


def word_idf(bm25, word: str) -> float:
    """The word's idf in the index, whether it has segments (SegmentedBM25) or not (bm25s)."""
    if isinstance(bm25, SegmentedBM25):
        return lucene_idf(bm25.frequency(word), bm25.documents)
    return lucene_idf(_bm25s_frequency(bm25, word), int(bm25.scores["num_docs"]))


def base_document_frequencies(bm25) -> tuple[dict[str, int], int]:
    """A bm25s index's {word: passages holding it} and its passages (a word's stored scores are
    the passages that hold it), so nothing is re-tokenised."""
    indptr = bm25.scores["indptr"]
    frequency = {
        word: int(indptr[i + 1] - indptr[i])
        for word, i in bm25.vocab_dict.items()
        if i + 1 < len(indptr)
    }
    return frequency, int(bm25.scores["num_docs"])


def document_frequencies(bm25) -> tuple[dict[str, int], int]:
    """The index's word frequencies, whether it has segments (SegmentedBM25) or not (bm25s)."""
    if isinstance(bm25, SegmentedBM25):
        return bm25.document_frequencies()
    return base_document_frequencies(bm25)
