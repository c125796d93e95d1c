"""The absolute times each passage's text names ("2022年10月召开…", "总结2023年工作"), read once
at ingest (ingest/time_expressions.absolute_times) and saved with the filter columns, so a
question whose time misses a passage's own dates checks what its text names without parsing
it (~0.6 ms a passage, which a first dated question paid for thousands of candidates).

A ragged column, so concatenating two (index segments) is appending with shifted offsets:

    offsets  int64, rows + 1: row r's times are [offsets[r], offsets[r + 1])
    low      int32 YYYYMMDD, OPEN (0) for an open start ("2022年以前")
    high     int32 YYYYMMDD, OPEN (0) for an open end ("2022年以来")

YYYYMMDD integers order like the ISO dates they stand for, at a tenth of a string's size.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping, Sequence

import numpy as np

from ingest.time_expressions import absolute_times

OPEN = 0  # an open end; no real date encodes as 0
_PREFIX = "text_dates."
Times = tuple[tuple[str | None, str | None], ...]


def day_number(iso: str | None) -> int:
    """ "2022-10-01" -> 20221001; None (open) -> OPEN."""
    if iso is None:
        return OPEN
    day = date.fromisoformat(iso)
    return day.year * 10_000 + day.month * 100 + day.day


def _iso(number: int) -> str | None:
    if number == OPEN:
        return None
    return date(number // 10_000, number // 100 % 100, number % 100).isoformat()


@dataclass(frozen=True)
class TextDates:
    offsets: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, texts: Iterable[str]) -> "TextDates":
        """Every passage's absolute_times, in row order."""
        return cls.from_times(absolute_times(text) for text in texts)

    @classmethod
    def from_times(cls, per_row: Iterable[Times]) -> "TextDates":
        builder = TextDatesBuilder()
        for times in per_row:
            builder.add_times(times)
        return builder.build()

    @property
    def size(self) -> int:
        return len(self.offsets) - 1

    def times(self, row: int) -> Times:
        """Row's times as absolute_times gives them: (from, to) ISO pairs, None for open."""
        span = slice(self.offsets[row], self.offsets[row + 1])
        return tuple(
            (_iso(low), _iso(high))
            for low, high in zip(self.low[span].tolist(), self.high[span].tolist())
        )

    def naming_within(
        self, rows: np.ndarray, date_from: str | None, date_to: str | None
    ) -> np.ndarray:
        """bool per given row: its text names a time wholly inside the range (None: open), both
        of its ends known (answer/ask.py's "mentioned")."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.offsets[rows]
        counts = self.offsets[rows + 1] - starts
        # the position of every time of every given row, and which given row it belongs to
        owner = np.repeat(np.arange(len(rows)), counts)
        first = np.cumsum(counts) - counts
        positions = np.arange(int(counts.sum())) - np.repeat(first - starts, counts)
        low, high = self.low[positions], self.high[positions]
        fits = (low != OPEN) & (high != OPEN)
        if date_from is not None:
            fits &= low >= day_number(date_from)
        if date_to is not None:
            fits &= high <= day_number(date_to)
        named = np.zeros(len(rows), dtype=bool)
        named[owner[fits]] = True
        return named

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            f"{_PREFIX}offsets": self.offsets,
            f"{_PREFIX}low": self.low,
            f"{_PREFIX}high": self.high,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], rows: int) -> "TextDates | None":
        """None for columns saved before the text's times were; ValueError when they do not
        fit `rows` passages (a damaged columns.npz)."""
        if f"{_PREFIX}offsets" not in arrays:
            return None
        offsets, low, high = (arrays[f"{_PREFIX}{name}"] for name in ("offsets", "low", "high"))
        if (
            len(offsets) != rows + 1
            or offsets[0] != 0
            or not len(low) == len(high) == offsets[-1]
            or np.any(np.diff(offsets) < 0)
        ):
            raise ValueError(f"text_dates.*: times that do not fit {rows} passages")
        return cls(offsets, low, high)

    @classmethod
    def concat(cls, parts: Sequence["TextDates"]) -> "TextDates":
        """The rows of each part after the previous part's."""
        shifts = np.cumsum([0] + [int(p.offsets[-1]) for p in parts[:-1]])
        offsets = [np.zeros(1, dtype=np.int64)]
        offsets += [p.offsets[1:] + shift for p, shift in zip(parts, shifts)]
        return cls(
            np.concatenate(offsets),
            np.concatenate([p.low for p in parts] or [np.empty(0, dtype=np.int32)]),
            np.concatenate([p.high for p in parts] or [np.empty(0, dtype=np.int32)]),
        )


class TextDatesBuilder:
    """TextDates made passage by passage, in row order, in compact arrays (an archive's million
    passages need no Python int per time: index.filters.ColumnsBuilder)."""

    def __init__(self):
        self._counts, self._low, self._high = array("q"), array("i"), array("i")

    def add(self, text: str) -> None:
        self.add_times(absolute_times(text))

    def add_times(self, times: Times) -> None:
        self._counts.append(len(times))
        for start, end in times:
            self._low.append(day_number(start))
            self._high.append(day_number(end))

    def build(self) -> TextDates:
        offsets = np.zeros(len(self._counts) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self._counts, dtype=np.int64), out=offsets[1:])
        low = np.frombuffer(self._low, dtype=np.int32).copy()
        return TextDates(offsets, low, np.frombuffer(self._high, dtype=np.int32).copy())
