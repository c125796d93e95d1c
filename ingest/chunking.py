"""Items -> chunks.

A report (an ordinary item, or one place's report inside a combined item) is
one chunk when it fits; a longer one is split on Chinese boundaries (paragraph,
then 。！？；, then ，、) with a modest overlap. A chunk never crosses reports,
so a citation never mixes two places' news.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.model import Bulletin, Chunk, ChunkMeta, Item

SEPARATORS = ["\n", "。", "！", "？", "；", "，", "、", ""]


@dataclass(frozen=True)
class ChunkingParams:
    # Characters. e5 reads ~0.72 tokens per Chinese character, so 500 plus the
    # context line stays inside its 512-token window; most reports fit whole.
    chunk_size: int = 500
    chunk_overlap: int = 80
    separators: tuple[str, ...] = tuple(SEPARATORS)

    def to_dict(self) -> dict:
        return {**asdict(self), "separators": list(self.separators)}


def make_splitter(
    size: int, overlap: int, separators: tuple[str, ...]
) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=list(separators),
        keep_separator="end",  # "。" stays with its sentence
        chunk_size=size,
        chunk_overlap=min(overlap, size // 2),
        strip_whitespace=True,
    )


def split_span(text: str, start: int, end: int, params: ChunkingParams) -> list[tuple[int, int]]:
    """Offsets of the pieces of text[start:end]; each piece is an exact substring."""
    unit = text[start:end]
    if not unit.strip():
        return []
    if len(unit) <= params.chunk_size:
        return [(start, end)]
    # Aim for pieces of even size, so a 520-character report does not end in a
    # 20-character scrap.
    pieces = math.ceil(len(unit) / params.chunk_size)
    size = min(params.chunk_size, math.ceil(len(unit) / pieces * 1.15) + params.chunk_overlap // 2)
    splitter = make_splitter(size, params.chunk_overlap, params.separators)
    spans = []
    cursor = 0
    for piece in splitter.split_text(unit):
        at = unit.find(piece, cursor)
        if at < 0:  # cannot happen with keep_separator; fail loudly rather than mis-cite
            raise ValueError(f"splitter produced text not found in the source: {piece[:30]!r}")
        spans.append((start + at, start + at + len(piece)))
        cursor = at + 1
    return spans


def context_line(item: Item, places: tuple[str, ...], bulletin: Bulletin) -> str:
    """What the embedder and BM25 see besides the passage: title, date, places, source."""
    date = bulletin.date or ""
    parts = [
        item.section or "",
        date,
        "、".join(p.split(" › ")[-1] for p in places),
        item.source_org or "",
    ]
    return " ".join(p for p in parts if p)


def chunk_bulletin(bulletin: Bulletin, params: ChunkingParams = ChunkingParams()) -> list[Chunk]:
    chunks: list[Chunk] = []
    text = bulletin.text_clean
    for item in bulletin.items:
        for r_index, report in enumerate(item.reports):
            places = report.places if item.combined else item.places
            cities = report.cities if item.combined else item.cities
            dates = report.event_dates if item.combined else item.event_dates
            pieces = split_span(text, report.span.start, report.span.end, params)
            for p_index, (start, end) in enumerate(pieces):
                passage = text[start:end]
                title = item.title + (f"——{item.subtitle}" if item.subtitle else "")
                meta = _meta(
                    bulletin, item, r_index, p_index, len(pieces), places, cities, dates, start, end
                )
                chunks.append(
                    Chunk(
                        chunk_id=f"{bulletin.doc_id}#{len(chunks)}",
                        doc_id=bulletin.doc_id,
                        text=passage,
                        embed_text=f"{title}\n{context_line(item, places, bulletin)}\n{passage}",
                        start=start,
                        end=end,
                        meta=meta,
                    )
                )
    return chunks


def _meta(
    bulletin: Bulletin,
    item: Item,
    r_index: int,
    p_index: int,
    n_pieces: int,
    places: tuple[str, ...],
    cities: tuple[str, ...],
    dates: tuple[str, ...],
    start: int,
    end: int,
) -> ChunkMeta:
    pages = bulletin.pages_between(start, end)  # PDF pages it spans; None for TXT etc.
    return ChunkMeta(
        title=item.title,
        subtitle=item.subtitle,
        section=item.section,
        date=bulletin.date,
        date_estimate=bulletin.date_estimate,
        issue_no=bulletin.issue_no,
        issuer=bulletin.issuer,
        places=tuple(places),
        cities=tuple(cities),
        source_org=item.source_org,
        event_dates=tuple(dates),
        item_index=item.index,
        item_id=f"{bulletin.doc_id}/{item.index}",
        report_index=r_index,
        piece=p_index,
        pieces=n_pieces,
        combined=item.combined,
        path=bulletin.path,
        pages=tuple(pages) if pages is not None else None,
        ocr=bulletin.ocr,  # text read by OCR: the card says so
    )
