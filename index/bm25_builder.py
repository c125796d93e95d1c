"""bm25s's BM25 index, built passage by passage from each passage's token counts.

`bm25s.BM25.index(tokens)` needs every passage's token list at once, and builds its sparse
matrix from (score, passage, token) triples sorted by a 64-bit key: ~44 bytes per
(passage, distinct token) pair at its peak, 5 GB for a million passages, on top of the token
lists themselves. Here a passage leaves only its distinct token ids and their counts (6 bytes a
pair), and the matrix is filled column by column from them, a block of passages at a time.

The result is the one bm25s builds: the same parameters (a default `bm25s.BM25()`), each
score computed by bm25s's own idf and term-frequency functions on the same values, the same
compressed-column arrays and files. Only the token numbering differs: bm25s numbers tokens
in the iteration order of a Python set (it changes from run to run), this builder in order of
first appearance. tests/unit/test_bm25_builder.py holds it to `bm25s.BM25.index`.
"""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Iterable, Sequence

import bm25s
import numpy as np
from bm25s.scoring import _build_idf_array, _select_idf_scorer, _select_tfc_scorer

BLOCK_PAIRS = 1 << 20  # (passage, token) pairs placed into the matrix at a time
_MAX_COUNT = (1 << 16) - 1  # a token's count in one passage is kept in 16 bits


class Bm25Builder:
    def __init__(self):
        self.vocab: dict[str, int] = {}  # token -> id, in order of first appearance
        self._ids = array("i")  # each passage's distinct token ids, passage after passage
        self._counts = array("H")  # ... and how often each occurs in it
        self._distinct = array("q")  # distinct tokens per passage
        self._lengths = array("q")  # tokens per passage

    def add(self, tokens: Sequence[str]) -> None:
        """The next passage's tokens."""
        counts = Counter(tokens)
        if counts and max(counts.values()) > _MAX_COUNT:
            raise ValueError(f"a token occurs more than {_MAX_COUNT} times in one passage")
        vocab = self.vocab
        self._ids.extend(vocab.setdefault(token, len(vocab)) for token in counts)
        self._counts.extend(counts.values())
        self._distinct.append(len(counts))
        self._lengths.append(len(tokens))

    def add_all(self, passages: Iterable[Sequence[str]]) -> None:
        for tokens in passages:
            self.add(tokens)

    def statistics(self) -> dict[str, float]:
        """The passages added and their mean length in tokens, as the index's scores use it
        (saved in the manifest: a segment's passages are scored with it, bm25_segments.py)."""
        lengths = np.frombuffer(self._lengths, dtype=np.int64)
        return {
            "documents": len(lengths),
            "average_length": float(lengths.mean()) if len(lengths) else 0.0,
        }

    def build(self) -> bm25s.BM25:
        """The index of every passage added (the builder is emptied)."""
        bm25 = bm25s.BM25()
        if bm25.method in bm25.methods_requiring_nonoccurrence:
            raise ValueError(f"BM25 method {bm25.method!r} is not supported here")
        ids, counts, distinct, lengths = self._take()
        n_docs, n_vocab = len(lengths), len(self.vocab)
        # bm25s: np.array([len(doc) for doc in corpus]).mean(), an np.float64
        avg_doc_len = lengths.mean() if n_docs else np.float64("nan")
        doc_freqs = np.bincount(ids, minlength=n_vocab)
        idf = _build_idf_array(
            dict(enumerate(doc_freqs.tolist())),
            n_docs,
            _select_idf_scorer(bm25.idf_method),
            dtype=bm25.dtype,
        )
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(doc_freqs, out=indptr[1:])
        data = np.empty(len(ids), dtype=bm25.dtype)
        rows = np.empty(len(ids), dtype=bm25.int_dtype)
        free = indptr[:-1].copy()  # each column's next free place
        scores = _Scores(bm25, idf, avg_doc_len)
        ends = np.cumsum(distinct)
        first_doc = 0
        while first_doc < n_docs:
            start = int(ends[first_doc - 1]) if first_doc else 0
            last_doc = max(first_doc + 1, int(np.searchsorted(ends, start + BLOCK_PAIRS)))
            last_doc = min(last_doc, n_docs)
            end = int(ends[last_doc - 1])
            block_data = scores.of(ids, counts, distinct, lengths, first_doc, last_doc, start)
            block_rows = np.repeat(
                np.arange(first_doc, last_doc, dtype=rows.dtype), distinct[first_doc:last_doc]
            )
            _place(ids[start:end], block_data, block_rows, free, data, rows)
            first_doc = last_doc
        bm25.scores = {"data": data, "indices": rows, "indptr": indptr, "num_docs": n_docs}
        # as bm25s.BM25.index(list of token lists) leaves it: "" scores nothing, last id
        bm25.vocab_dict = {**self.vocab, "": n_vocab} if "" not in self.vocab else self.vocab
        bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
        bm25.nonoccurrence_array = None
        return bm25

    def _take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The collected arrays, without a copy (the builder starts again empty)."""
        arrays = (
            np.frombuffer(self._ids, dtype=np.int32),
            np.frombuffer(self._counts, dtype=np.uint16),
            np.frombuffer(self._distinct, dtype=np.int64),
            np.frombuffer(self._lengths, dtype=np.int64),
        )
        self._ids, self._counts = array("i"), array("H")
        self._distinct, self._lengths = array("q"), array("q")
        return arrays


class _Scores:
    """Each passage's scores as bm25s computes them (its functions, called passage by passage
    with the same argument types, so every float is the same)."""

    def __init__(self, bm25: bm25s.BM25, idf: np.ndarray, avg_doc_len: np.float64):
        self._bm25, self._idf, self._avg = bm25, idf, avg_doc_len
        self._tfc = _select_tfc_scorer(bm25.method)

    def of(self, ids, counts, distinct, lengths, first_doc: int, last_doc: int, start: int):
        bm25 = self._bm25
        out = np.empty(int(distinct[first_doc:last_doc].sum()), dtype=bm25.dtype)
        at = 0
        for doc in range(first_doc, last_doc):
            n = int(distinct[doc])
            here = slice(start + at, start + at + n)
            tfc = self._tfc(
                tf_array=counts[here].astype(bm25.dtype),
                l_d=int(lengths[doc]),
                l_avg=self._avg,
                k1=bm25.k1,
                b=bm25.b,
                delta=bm25.delta,
            )
            out[at : at + n] = self._idf[ids[here]] * tfc
            at += n
        return out


def _place(cols, values, rows, free, data, indices) -> None:
    """Put a block's (column, value, row) entries, rows ascending, at their columns' next
    free places: each column's rows stay ascending, as bm25s sorts them."""
    order = np.argsort(cols, kind="stable")
    cols = cols[order]
    rank = np.arange(len(cols)) - np.searchsorted(cols, cols)  # place within its column
    where = free[cols] + rank
    data[where] = values[order]
    indices[where] = rows[order]
    free += np.bincount(cols, minlength=len(free))
