"""One index read as its base followed by its segments (index/segments.py): the passages,
bulletins and vectors of every part behind the interfaces a single part offers, so retrievers,
understood search and replies see one row numbering (base rows, then each segment's in turn).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Iterator

import numpy as np

from index.rows_file import row_index


def _starts(lengths: Sequence[int]) -> np.ndarray:
    """Each part's first row, then the total."""
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])


class StackedRows(Sequence):
    """Rows of several sequences (RowsFile, lists) as one: row i of the whole."""

    def __init__(self, parts: Sequence[Sequence]):
        self.parts = list(parts)
        self._starts = _starts([len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = row_index(index, len(self))
        part = int(np.searchsorted(self._starts, index, side="right")) - 1
        return self.parts[part][index - int(self._starts[part])]

    def __iter__(self) -> Iterator:
        return chain.from_iterable(self.parts)


class StackedMatrix:
    """Row-stacked 2-d arrays read by row lists (matrix[rows]) without copying the big first
    part (a memory-mapped vectors.npy): what the dense retriever and replies ask of a matrix."""

    def __init__(self, parts: Sequence[np.ndarray]):
        self.parts = list(parts)
        self._starts = _starts([len(p) for p in self.parts])
        self.shape = (int(self._starts[-1]), int(self.parts[0].shape[1]))
        self.dtype = self.parts[0].dtype
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, (int, np.integer)):
            return self[np.array([rows])][0]
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        part_of = np.searchsorted(self._starts, rows, side="right") - 1
        for part in np.unique(part_of):
            at = part_of == part
            out[at] = self.parts[part][rows[at] - self._starts[part]]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.concatenate([np.asarray(p) for p in self.parts])
        return whole if dtype is None else whole.astype(dtype)


class StackedRecords(Mapping):
    """{key: record} over several mappings with distinct keys (each part's bulletins)."""

    def __init__(self, parts: Sequence[Mapping]):
        self.parts = list(parts)

    def __getitem__(self, key):
        for part in self.parts:
            if key in part:
                return part[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(key in part for part in self.parts)

    def __iter__(self):
        return chain.from_iterable(self.parts)

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def values(self):
        return [record for part in self.parts for record in part.values()]
