"""JSON Lines files read one row at a time: a row's byte offset is stored beside the file
(NAME.offsets.npy, n + 1 int64: the start of each line, then the file's size), so opening an
index reads no passage and a question parses only the rows it ranks (issue 12: parsing every
passage of a 100k archive was 12 of the 14 s it took to open).

The file handle stays open for the life of the reader: an update swaps a new index folder in,
and a reader of the old version keeps reading the old file, never the new file at old offsets.
"""

from __future__ import annotations

import json
import os
import threading
from array import array
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

import numpy as np

T = TypeVar("T")


def offsets_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".jsonl") + ".offsets.npy")


def write_rows(path: Path, rows: Iterable[Any]) -> np.ndarray:
    """Write rows as JSON Lines (flushed to disk) and return their offsets (n + 1)."""
    with RowsWriter(path) as writer:
        for row in rows:
            writer.write(row)
    return writer.offsets


class RowsWriter:
    """write_rows one row at a time, for rows that come as they are made (an archive's
    passages are not held in memory while its index is written); offsets once closed."""

    def __init__(self, path: Path):
        self._handle = open(path, "wb")
        self._ends = array("q", [0])  # 8 bytes a row, not a Python int each

    def write(self, row: Any) -> None:
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        self._handle.write(line)
        self._ends.append(self._ends[-1] + len(line))

    def close(self) -> None:
        """Flush the rows to disk (an error is raised here, not lost)."""
        if not self._handle.closed:
            with self._handle:
                self._handle.flush()
                os.fsync(self._handle.fileno())

    @property
    def offsets(self) -> np.ndarray:
        return np.frombuffer(self._ends, dtype=np.int64).copy()

    def __enter__(self) -> "RowsWriter":
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            self.close()
        else:  # the first error is the one to report
            try:
                self._handle.close()
            except OSError:
                pass


def save_offsets(path: Path, offsets: np.ndarray) -> None:
    with open(offsets_path(path), "wb") as handle:
        np.save(handle, offsets)
        handle.flush()
        os.fsync(handle.fileno())


def row_index(index, rows: int) -> int:
    """A sequence index (negative from the end) as a row number; IndexError past either end."""
    index = int(index)
    if index < 0:
        index += rows
    if not 0 <= index < rows:
        raise IndexError(f"row {index} of {rows}")
    return index


class RowsFile(Sequence, Generic[T]):
    """rows[i] parses line i of a JSON Lines file (decode(dict) -> T), with the recently read
    rows cached; iterating reads the file once from the start."""

    def __init__(
        self,
        path: Path,
        offsets: np.ndarray,
        decode: Callable[[Any], T],
        cache_rows: int,
        damaged: Callable[[str], Exception] = ValueError,
    ):
        """damaged(what) is the error raised for a row that does not parse (the index's
        "damaged, repair it with …")."""
        self.path, self._offsets, self._decode = Path(path), offsets, decode
        self._damaged = damaged
        self._handle = open(path, "rb")  # closed when the reader is collected
        self._lock = threading.Lock()  # one seek + read at a time (the web app has threads)
        self._row = lru_cache(maxsize=cache_rows)(self._read_row)
        size = os.fstat(self._handle.fileno()).st_size
        if len(offsets) < 1 or int(offsets[-1]) != size:
            raise ValueError(
                f"{offsets_path(self.path).name} does not match {self.path.name} "
                f"({int(offsets[-1]) if len(offsets) else '?'} vs {size} bytes)"
            )

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._row(row_index(index, len(self)))

    def __iter__(self) -> Iterator[T]:
        """Every row in order, read from the open file (the version this reader opened) a block
        of rows at a time."""
        for first in range(0, len(self), _BLOCK_ROWS):
            last = min(first + _BLOCK_ROWS, len(self))
            block = self._read(int(self._offsets[first]), int(self._offsets[last]))
            for index, line in enumerate(block.split(b"\n")[: last - first], first):
                yield self._parse(index, line)

    def _read_row(self, index: int) -> T:
        line = self._read(int(self._offsets[index]), int(self._offsets[index + 1]))
        return self._parse(index, line)

    def _read(self, start: int, end: int) -> bytes:
        with self._lock:
            self._handle.seek(start)
            return self._handle.read(end - start)

    def _parse(self, index: int, line: bytes) -> T:
        try:
            return self._decode(json.loads(line))
        except (ValueError, TypeError, KeyError) as exc:
            raise self._damaged(
                f"{self.path.name} 第{index + 1}行无法读取 / line {index + 1} unreadable ({exc})"
            ) from None


_BLOCK_ROWS = 1000


class RecordsFile(Mapping):
    """{key: record} over a JSON Lines file, keys given in row order (the records are read when
    asked for, so a bulletin's full text is read only to be shown)."""

    def __init__(self, rows: RowsFile[dict], keys: Sequence[str]):
        if len(keys) != len(rows):
            raise ValueError(f"{len(keys)} keys for {len(rows)} rows of {rows.path.name}")
        self._rows = rows
        self._row_of = {key: row for row, key in enumerate(keys)}

    def __getitem__(self, key: str) -> dict:
        return self._rows[self._row_of[key]]

    def __contains__(self, key: object) -> bool:
        return key in self._row_of

    def __iter__(self) -> Iterator[str]:
        return iter(self._row_of)

    def __len__(self) -> int:
        return len(self._row_of)

    def values(self):  # one pass over the file, not a seek per record
        return list(self._rows)
