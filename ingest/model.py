"""The data that travels from a bulletin file to the search results.

One frozen `Chunk` goes end to end (ingest -> index -> search -> UI). Offsets
(`start`, `end`) always point into the bulletin's cleaned text, so a passage can
be shown and highlighted inside the full bulletin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any, Mapping, Sequence

from ingest.pages import pages_between


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Report:
    """One dated report inside an item.

    A combined item ("（综合成都市、泸州市…信息）") holds one report per place;
    an ordinary item is a single report. Reports are the units users cite as
    "the 达州 item", so chunks never cross them.
    """

    span: Span
    places: tuple[str, ...]  # place labels: "达州市" or "达州市 › 大竹县"
    cities: tuple[str, ...]  # prefecture-level names, for filtering
    event_dates: tuple[str, ...]  # ISO dates (YYYY-MM-DD) mentioned, resolved


@dataclass(frozen=True)
class Item:
    """A news item: title, body paragraphs and usually a trailing source office."""

    index: int  # 0-based position in the bulletin
    section: str | None  # "特别关注", "市州动态" (without the brackets), or None
    title: str
    subtitle: str | None
    title_span: Span
    body_span: Span  # body paragraphs, without the title and the source line
    source_org: str | None  # text inside the trailing full-width parentheses
    source_span: Span | None
    combined: bool  # source line says "综合…信息"
    reports: tuple[Report, ...]
    places: tuple[str, ...]
    cities: tuple[str, ...]
    event_dates: tuple[str, ...]


@dataclass(frozen=True)
class Bulletin:
    doc_id: str
    path: str
    sha256: str
    encoding: str
    issuer: str | None
    date: str | None  # ISO date of issue; None when header and footer are lost
    date_source: str | None  # "header" | "footer" | None
    date_estimate: str | None  # a labelled guess (e.g. "2024"), never shown as fact
    date_estimate_basis: str | None
    issue_no: str | None  # "第24期" when the header carries it
    text_clean: str
    items: tuple[Item, ...]
    metadata: dict[str, Any] = field(default_factory=dict)  # distribution block etc.
    source_format: str = "txt"  # txt | pdf | docx | html | md | image
    # PDF only: offset in text_clean where each printed page (1, 2, ...) begins.
    page_starts: tuple[int, ...] | None = None
    # Text read by OCR from scanned pages or pictures: may hold recognition errors, so
    # the passage cards say so. Bulletin dicts of an older index lack the key: read it
    # with .get("ocr", False).
    ocr: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def pages_between(self, start: int, end: int) -> list[int] | None:
        """Printed pages that text_clean[start:end] spans; None when the source has no pages."""
        return pages_between(self.page_starts, start, end)


def known_dates(event_dates: Sequence[str] | None, date: str | None) -> tuple[str, ...]:
    """The dates a passage is about: the event dates it reports, else its bulletin's date
    (empty when neither is known). The one rule behind date filters, date-aware ranking and
    precedent entries (exports show the event's date and the bulletin's apart, labelled)."""
    return tuple(event_dates) if event_dates else ((date,) if date else ())


@dataclass(frozen=True)
class ChunkMeta:
    """What a chunk says about itself besides its text: where it comes from, when and where it
    happened.

    Chunking fills every field; passages that are not bulletin items (BEIR distractors) and
    chunks of an older index leave some at their defaults. On disk (chunks.jsonl) it is the
    "meta" mapping: `to_dict()` writes it exactly as chunking always has (lists for sequences,
    "ocr" only when true), `from_dict()` reads it back (lists become tuples). Keys this
    version does not know are kept in `extra` and written back, so an update, which rewrites
    every kept chunk, never drops what a newer version stored.
    """

    title: str | None = None  # the item's title
    subtitle: str | None = None  # "——"-subtitle or a plain document's heading lines
    section: str | None = None  # "特别关注", "市州动态" (without the brackets)
    date: str | None = None  # the bulletin's ISO issue date; None when unknown
    # a labelled guess ("2024") when date is None; never shown as fact
    date_estimate: str | None = None
    issue_no: str | None = None  # "第24期"
    issuer: str | None = None
    places: tuple[str, ...] = ()  # place labels: "达州市" or "达州市 › 大竹县"
    cities: tuple[str, ...] = ()  # prefecture-level names, for filtering
    # the trailing source line's office ("综合…信息" for a combined item)
    source_org: str | None = None
    event_dates: tuple[str, ...] = ()  # ISO dates the report mentions, resolved
    item_index: int = 0  # the item's 0-based position in its bulletin
    item_id: str | None = None  # f"{doc_id}/{item_index}"
    report_index: int = 0  # which report of a combined item (0 otherwise)
    piece: int = 0  # which piece of a report split in several chunks
    pieces: int = 1
    combined: bool = False  # the item's source line says "综合…信息"
    path: str | None = None  # the bulletin's file
    # printed PDF pages the passage spans; None for other formats
    pages: tuple[int, ...] | None = None
    ocr: bool = False  # read by OCR from a scan: may hold recognition errors
    # keys this version does not know
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def known_dates(self) -> tuple[str, ...]:
        """The event dates, else the bulletin's date (see known_dates)."""
        return known_dates(self.event_dates, self.date)

    @property
    def first_date(self) -> str | None:
        """The first event date, else the bulletin's date; None when neither is known."""
        dates = self.known_dates
        return dates[0] if dates else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name == "ocr" and not value:
                continue  # absent unless the text was read by OCR
            data[f.name] = list(value) if isinstance(value, tuple) else value
        data.update((k, v) for k, v in self.extra.items() if k not in data)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ChunkMeta":
        """The "meta" mapping of a stored chunk; TypeError when it is not one."""
        if not isinstance(data, dict) and not isinstance(data, Mapping):  # dict: the fast test
            raise TypeError(f"chunk meta must be a JSON object, not {type(data).__name__}")
        known = _meta_fields()
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key in _SEQUENCES:
                value = _as_tuple(key, value, empty=())
            elif key == "pages":
                value = _as_tuple(key, value, empty=None)
            values[key] = value
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})


_SEQUENCES = ("places", "cities", "event_dates")


@cache
def _meta_fields() -> frozenset[str]:
    """ChunkMeta's stored keys (a question reads ~200 passages: worked out once, not per read)."""
    return frozenset(f.name for f in fields(ChunkMeta)) - {"extra"}


def _as_tuple(key: str, value: Any, empty: tuple | None) -> tuple | None:
    if value is None:
        return empty
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"chunk meta {key!r} must be a list, not {type(value).__name__}")
    return tuple(value)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # f"{doc_id}#{n}"
    doc_id: str
    text: str  # what users see; == bulletin.text_clean[start:end]
    embed_text: str  # title / place / date context + text
    start: int
    end: int
    meta: ChunkMeta

    def to_dict(self) -> dict[str, Any]:
        """The chunks.jsonl line (and nothing else: JSON dicts live at the edges)."""
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "text": self.text,
            "embed_text": self.embed_text,
            "start": self.start,
            "end": self.end,
            "meta": self.meta.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Chunk":
        """A chunks.jsonl line; TypeError when it is not one (a key missing or unknown, meta not an
        object)."""
        if not (isinstance(data, dict) or isinstance(data, Mapping)) or "meta" not in data:
            raise TypeError('a chunk must be a JSON object with a "meta" object')
        return cls(**{**data, "meta": ChunkMeta.from_dict(data["meta"])})
