"""What a search may be restricted to (Filters: cities, county places, dates, sections), and
the passages' filter fields as numpy columns that apply it: a filter is a few array
operations, not a Python call per passage (a 100k-passage archive spent most of a filtered
search there).

The columns are saved with the index (built at ingest; index/store.py) and mean exactly
what `Filters.matches` means (the tests hold them to it): a city includes its counties, a
place is a county label, a date range keeps the passages whose reported dates (else the
bulletin's) overlap it and drops the undated. Beside them, the times each passage's text
names (index/text_dates.py), which understood search reads for its date bonus.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Mapping, Sequence

import numpy as np

from index.text_dates import TextDates, TextDatesBuilder
from ingest.model import Chunk

_NONE = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Filters:
    cities: tuple[str, ...] = ()  # full names; a city includes its counties
    places: tuple[str, ...] = ()  # county labels "达州市 › 大竹县"
    date_from: str | None = None  # ISO, inclusive
    date_to: str | None = None
    sections: tuple[str, ...] = ()

    def active(self) -> bool:
        return bool(self.cities or self.places or self.date_from or self.date_to or self.sections)

    def matches(self, chunk: Chunk) -> bool:
        meta = chunk.meta
        if self.cities and not set(self.cities) & set(meta.cities):
            return False
        if self.places and not set(self.places) & set(meta.places):
            return False
        if self.sections and meta.section not in self.sections:
            return False
        if self.date_from or self.date_to:
            span = date_range(chunk)
            if span is None:
                return False  # unknown date: cannot be shown as inside the range
            low, high = span
            if self.date_from and high < self.date_from:
                return False
            if self.date_to and low > self.date_to:
                return False
        return True


def place_filters(names, gazetteer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names a user gave (达州, 达州市, Dazhou, 大竹县) as Filters' (cities, places): a city by
    its full name (it includes its counties), a county by its label. KeyError(name) for an
    unknown one."""
    cities, places = [], []
    for name in names:
        place = gazetteer.resolve(name)
        if place is None:
            raise KeyError(name)
        if place.level == "city":
            cities.append(place.name)
        else:
            places.append(place.label)
    return tuple(cities), tuple(places)


def date_range(chunk: Chunk) -> tuple[str, str] | None:
    """The event dates a chunk reports, else its bulletin's date."""
    dates = chunk.meta.known_dates
    return (min(dates), max(dates)) if dates else None


@dataclass(frozen=True)
class FilterColumns:
    size: int
    rows_by_city: dict[str, np.ndarray]
    rows_by_place: dict[str, np.ndarray]
    rows_by_section: dict[str, np.ndarray]
    # ISO strings compare like dates; "" where a passage has no date
    date_low: np.ndarray
    date_high: np.ndarray
    # every reported date of every passage (else its bulletin's), and the row it belongs to
    dates: np.ndarray
    date_rows: np.ndarray
    # the times each passage's text names; None in columns saved before them
    text_dates: TextDates | None = None

    @classmethod
    def of(cls, chunks: Iterable[Chunk], text_dates: bool = True) -> "FilterColumns":
        """text_dates=False leaves the texts unread (and text_dates None)."""
        columns = ColumnsBuilder(text_dates)
        for chunk in chunks:
            columns.add(chunk)
        return columns.build()

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as flat numpy arrays (saved with the index: columns.npz), from_arrays'
        input."""
        out = {
            "size": np.array([self.size], dtype=np.int64),
            "date_low": self.date_low,
            "date_high": self.date_high,
            "dates": self.dates,
            "date_rows": self.date_rows,
            **(self.text_dates.arrays() if self.text_dates is not None else {}),
        }
        for name in _GROUPS:
            groups: dict[str, np.ndarray] = getattr(self, name)
            out[f"{name}.keys"] = np.array(list(groups), dtype=str)
            out[f"{name}.lengths"] = np.array([len(v) for v in groups.values()], dtype=np.int64)
            out[f"{name}.rows"] = (
                np.concatenate(list(groups.values())) if groups else np.empty(0, dtype=np.int64)
            )
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> "FilterColumns":
        groups = {}
        for name in _GROUPS:
            keys, lengths = arrays[f"{name}.keys"], arrays[f"{name}.lengths"]
            parts = np.split(arrays[f"{name}.rows"], np.cumsum(lengths)[:-1]) if len(keys) else []
            groups[name] = dict(zip(keys.tolist(), parts))
        return cls(
            int(arrays["size"][0]),
            dates=arrays["dates"],
            date_low=arrays["date_low"],
            date_high=arrays["date_high"],
            date_rows=arrays["date_rows"],
            text_dates=TextDates.from_arrays(arrays, int(arrays["size"][0])),
            **groups,
        )

    @classmethod
    def concat(cls, parts: Sequence["FilterColumns"]) -> "FilterColumns":
        """The columns of row-stacked parts (an index's base, then its segments): each part's
        rows shifted by the rows before it."""
        starts = np.cumsum([0] + [part.size for part in parts])
        groups = {}
        for name in _GROUPS:
            merged: dict[str, list[np.ndarray]] = defaultdict(list)
            for start, part in zip(starts, parts):
                for key, rows in getattr(part, name).items():
                    merged[key].append(rows + start)
            groups[name] = {key: np.concatenate(rows) for key, rows in merged.items()}
        return cls(
            int(starts[-1]),
            date_low=np.concatenate([part.date_low for part in parts]),
            date_high=np.concatenate([part.date_high for part in parts]),
            dates=np.concatenate([part.dates for part in parts]),
            date_rows=np.concatenate(
                [part.date_rows + start for start, part in zip(starts, parts)]
            ),
            text_dates=(  # saved by every part, or by none (a base written before them)
                TextDates.concat([part.text_dates for part in parts])
                if all(part.text_dates is not None for part in parts)
                else None
            ),
            **groups,
        )

    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        """The rows that pass (ascending), or None when nothing is filtered."""
        if not filters or not filters.active():
            return None
        keep = np.ones(self.size, dtype=bool)
        for wanted, groups in (
            (filters.cities, self.rows_by_city),
            (filters.places, self.rows_by_place),
            (filters.sections, self.rows_by_section),
        ):
            if wanted:
                keep &= self._any_of(wanted, groups)
        if filters.date_from or filters.date_to:
            keep &= self.dated  # unknown date: cannot be shown as inside the range
            if filters.date_from:
                keep &= self.date_high >= filters.date_from
            if filters.date_to:
                keep &= self.date_low <= filters.date_to
        return np.flatnonzero(keep)

    @cached_property
    def dated(self) -> np.ndarray:
        """bool per row: the passage has a reported date (else its bulletin's)."""
        return self.date_high != ""

    def rows_of_city(self, city: str) -> np.ndarray:
        """Rows about a city or any of its counties (ChunkMeta.cities)."""
        return self.rows_by_city.get(city, _NONE)

    def rows_of_place(self, label: str) -> np.ndarray:
        """Rows about one place label ("达州市 › 大竹县")."""
        return self.rows_by_place.get(label, _NONE)

    def rows_of_counties(self, city: str) -> np.ndarray:
        """Rows about any county of a city (a place label "城市 › …")."""
        prefix = f"{city} › "
        found = [rows for label, rows in self.rows_by_place.items() if label.startswith(prefix)]
        return np.unique(np.concatenate(found)) if found else _NONE

    def rows_dated_within(self, date_from: str | None, date_to: str | None) -> np.ndarray:
        """Rows with a reported date (else the bulletin's) inside the range (None: open)."""
        inside = np.ones(len(self.dates), dtype=bool)
        if date_from is not None:
            inside &= self.dates >= date_from
        if date_to is not None:
            inside &= self.dates <= date_to
        return np.unique(self.date_rows[inside])

    def _any_of(self, wanted: Sequence[str], groups: dict[str, np.ndarray]) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        for key in wanted:
            mask[groups.get(key, _NONE)] = True
        return mask


_GROUPS = ("rows_by_city", "rows_by_place", "rows_by_section")


class ColumnsBuilder:
    """FilterColumns made passage by passage, in row order, from compact arrays (an archive's
    passages need not be held, nor a Python int or str kept per passage)."""

    def __init__(self, text_dates: bool = True):
        """text_dates=False: the texts are not read for the times they name."""
        self.size = 0
        self._text_dates = TextDatesBuilder() if text_dates else None
        self._groups: dict[str, dict[str, array]] = {name: {} for name in _GROUPS}
        self._low: list[str] = []  # dates of the rows since the last block
        self._high: list[str] = []
        self._dates: list[str] = []
        self._date_rows = array("q")
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, chunk: Chunk) -> None:
        row, meta = self.size, chunk.meta
        for name, keys in (
            ("rows_by_city", set(meta.cities)),
            ("rows_by_place", set(meta.places)),
            ("rows_by_section", {meta.section} if meta.section else set()),
        ):
            groups = self._groups[name]
            for key in keys:
                groups.setdefault(key, array("q")).append(row)
        dates = meta.known_dates
        self._low.append(min(dates) if dates else "")
        self._high.append(max(dates) if dates else "")
        self._dates.extend(dates)
        self._date_rows.extend([row] * len(dates))
        if self._text_dates is not None:
            self._text_dates.add(chunk.text)
        self.size += 1
        if len(self._low) == _BLOCK_ROWS:
            self._end_block()

    def build(self) -> FilterColumns:
        self._end_block()
        low, high, dates = (_joined([block[i] for block in self._blocks]) for i in range(3))
        return FilterColumns(
            self.size,
            **{name: _arrays(groups) for name, groups in self._groups.items()},
            date_low=low,
            date_high=high,
            dates=dates,
            date_rows=np.frombuffer(self._date_rows, dtype=np.int64).copy(),
            text_dates=self._text_dates.build() if self._text_dates is not None else None,
        )

    def _end_block(self) -> None:
        """The block's dates as fixed-width arrays (the widest wins when they are joined, as
        one np.array of them all would have it)."""
        if self._low:
            self._blocks.append(
                tuple(np.array(v, dtype=str) for v in (self._low, self._high, self._dates))
            )
            self._low, self._high, self._dates = [], [], []


_BLOCK_ROWS = 65536


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.array([], dtype=str)


def _arrays(groups: dict[str, array]) -> dict[str, np.ndarray]:
    return {key: np.frombuffer(rows, dtype=np.int64).copy() for key, rows in groups.items()}


class LazyFilterColumns:
    """The index's FilterColumns, shared by its retrievers and understood search: those saved
    with the index (columns.npz), else built on the first filtered search from the passages (an
    index written before they were saved; without the texts' times, which would parse every
    passage: understood search then reads the few texts it needs)."""

    def __init__(self, chunks: Sequence[Chunk], saved: FilterColumns | None = None):
        self._chunks = chunks
        self._built: FilterColumns | None = saved

    @property
    def built(self) -> FilterColumns:
        if self._built is None:
            self._built = FilterColumns.of(self._chunks, text_dates=False)
        return self._built

    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        if not filters or not filters.active():
            return None
        return self.built.allowed(filters)
