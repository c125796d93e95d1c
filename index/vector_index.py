"""The passages' vector index: exact (flat) for a small archive, approximate past ANN_OVER.

Exact flat search reads every vector for every question: 19 ms at 100k passages on 2 cores
and ~200 ms at 1M. Past ANN_OVER passages the index is an inverted file (IVF, ~4 sqrt(n)
lists from k-means over a sample) with 8-bit scalar quantisation (a quarter of the memory),
searched in 1/PROBE_SHARE of its lists; its best RERANK candidates are then scored exactly
from the stored float32 vectors (vectors.npy, memory-mapped), so every score a user sees is
the exact cosine and only the candidate list is approximate. A search restricted
to a few rows (a city, the boosted passages) scores those rows exactly from the same vectors.
The thresholds were chosen by measurement (docs/benchmarks.md, "Scale").
"""

from __future__ import annotations

import math
import os

import faiss
import numpy as np

ANN_OVER = 50_000  # passages: below, exact flat search takes < 10 ms (docs/benchmarks.md)
PROBE_SHARE = 20  # a question searches 1/20 of the lists (at least MIN_NPROBE)
MIN_NPROBE = 32
RERANK = 200  # approximate candidates scored exactly before the cut
EXACT_ROWS = 20_000  # a search restricted to at most this many rows scores them exactly
TRAIN_PER_LIST = 64  # k-means sample: vectors per list (FAISS warns below 39)
ADD_ROWS = 65536  # vectors added to an IVF at a time (100 MB at dim 384)


def row_dots(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Each row's dot product with vector, without BLAS threads. After a threaded product
    OpenBLAS's threads keep spinning, and the embedder, encoding the next question right after,
    ran 6 times slower on two cores (122 ms instead of 21); einsum stays on one thread and costs
    about as much here (3 ms for 20 000 rows)."""
    return np.einsum("ij,j->i", rows, np.asarray(vector, dtype=np.float32).reshape(-1))


def nlist_for(total: int) -> int:
    """Lists for an IVF of `total` vectors: ~4 sqrt(n), a power of two (1M -> 4096)."""
    return 1 << max(4, round(math.log2(4 * math.sqrt(max(total, 1)))))


def ann_over() -> int:
    """ANN_OVER, or BULLETIN_ANN_OVER from the environment (tests, benchmarks)."""
    return int(os.environ.get("BULLETIN_ANN_OVER") or ANN_OVER)


def build_vector_index(vectors: np.ndarray, dim: int) -> faiss.Index:
    """Inner product over L2-normalised vectors; row i is passage i. vectors: an array, or rows
    read from disk when indexed by a slice or an array of rows (index/store.py StoredRows), so a
    big archive's vectors are added a block at a time, never all in memory."""
    total = len(vectors)
    if total < ann_over():
        flat = faiss.IndexFlatIP(dim)
        if total:
            flat.add(_float32(vectors[0:total]))
        return flat
    nlist = nlist_for(total)
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    sample = min(total, TRAIN_PER_LIST * nlist)
    rows = np.random.default_rng(0).choice(total, size=sample, replace=False)
    ivf.train(_float32(vectors[np.sort(rows)]))
    for start in range(0, total, ADD_ROWS):  # as one add: each list keeps row order
        ivf.add(_float32(vectors[start : start + ADD_ROWS]))
    return ivf


def _float32(rows) -> np.ndarray:
    return np.ascontiguousarray(rows, dtype=np.float32)


def is_exact(index) -> bool:
    return isinstance(index, faiss.IndexFlat)


def nprobe_for(index) -> int:
    """Lists an approximate index searches per question (FAISS does not save it)."""
    nlist = faiss.extract_index_ivf(index).nlist
    return min(nlist, max(MIN_NPROBE, nlist // PROBE_SHARE))


def tune_for_search(index) -> None:
    if not is_exact(index):
        faiss.extract_index_ivf(index).nprobe = nprobe_for(index)


class _IndexMemory:
    """A flat index's vectors, for numpy to view: holding the index keeps its memory alive for
    as long as any view of it lives (numpy keeps this object as the views' base)."""

    def __init__(self, index):
        self.index = index
        address = faiss.rev_swig_ptr(index.get_xb(), 1).__array_interface__["data"][0]
        self.__array_interface__ = {
            "shape": (index.ntotal, index.d),
            "typestr": "<f4",
            "data": (address, True),  # read-only
            "version": 3,
        }


def vectors_in_place(index) -> np.ndarray | None:
    """A flat index's vectors as a read-only numpy view of FAISS's own memory (no copy), or
    None for another kind of index. Adding to the index afterwards may move its memory: take
    the view after the last add."""
    if not is_exact(index) or index.ntotal == 0:
        return None
    return np.asarray(_IndexMemory(index))
