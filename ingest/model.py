"""The data that travels from a bulletin file to the search results.

One frozen `Chunk` goes end to end (ingest -> index -> search -> UI). Offsets
(`start`, `end`) always point into the bulletin's cleaned text, so a passage can
be shown and highlighted inside the full bulletin.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # f"{doc_id}#{n}"
    doc_id: str
    text: str  # what users see; == bulletin.text_clean[start:end]
    embed_text: str  # title / place / date context + text
    start: int
    end: int
    meta: dict[str, Any]  # title, section, date, places, cities, source_org, ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Chunk":
        return cls(**data)
