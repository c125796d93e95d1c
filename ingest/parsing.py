"""Bulletin structure: header, sections, news items, reports, footer.

Works on the cleaned paragraphs and assembles the cleaned text itself, so that
every span it records indexes that text. A two-line title is printed as one
line here; everything else keeps its paragraph.

Item boundaries come from the trailing source line "（雅安市地方志编纂中心）"
(possibly at the end of the last paragraph), a section marker or the footer.
Short unpunctuated paragraphs inside an item are sub-headings, not new items.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.cleaning import SECTION_MARKER, TERMINALS, URL_LINE, Paragraph
from ingest.dates import event_dates, latest_year_reported, parse_cn_date
from ingest.model import Bulletin, Item, Report, Span
from ingest.places import Gazetteer

_FOOTER_START = re.compile(r"^(信息公开选项|[报送发抄][:：])")
_PRINTED = re.compile(r"^(?P<org>\S*?)\s*(?P<date>\d{4}年\d{1,2}月\d{1,2}日)印发$")
_COPIES = re.compile(r"^（共印(\d+)份）$")
_HEADER = re.compile(r"^(?P<issuer>\S*?(办公室|办|中心|委员会))\s*(?P<date>\d{4}年\d{1,2}月\d{1,2}日)$")
_ISSUE_NO = re.compile(r"第(\d+)期")
# A report in a combined item starts with its date: "10月10日，…", "2023年，…".
_REPORT_LEAD = re.compile(r"^(\d{4}年)?\d{1,2}月\d{1,2}日|^\d{4}年[，,]")
_ORG_WORDS = re.compile(r"办|中心|室|局|委|会|部|院|馆|社|处|信息|政府")
TITLE_MAX = 40
# A title may end in a closing quote (“取真经”) but never in sentence punctuation.
_SENTENCE_END = "。！？；：…，、"


@dataclass
class _Block:
    """A paragraph placed in the cleaned text."""

    text: str
    start: int
    lines: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def trailing_source(text: str) -> tuple[str, int] | None:
    """The source office in the paragraph's trailing parentheses, and where "（" is."""
    if not text.endswith("）"):
        return None
    depth, i = 0, len(text) - 1
    while i >= 0:
        if text[i] == "）":
            depth += 1
        elif text[i] == "（":
            depth -= 1
            if depth == 0:
                break
        i -= 1
    if i < 0:
        return None
    inner = text[i + 1 : -1]
    standalone = i == 0
    after_sentence = i > 0 and text[i - 1] in TERMINALS
    if not (standalone or after_sentence) or not (2 <= len(inner) <= 80):
        return None
    if not _ORG_WORDS.search(inner) or inner.startswith("共印"):
        return None
    return inner, i


def is_title_like(block: _Block) -> bool:
    text = block.text
    return (
        block.lines == 1
        and len(text) <= TITLE_MAX
        and text[-1] not in _SENTENCE_END
        and not URL_LINE.match(text)
        and not SECTION_MARKER.match(text)
    )


class BulletinParser:
    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer

    def parse(self, paragraphs: list[Paragraph], *, doc_id: str, path: str, sha256: str, encoding: str) -> Bulletin:
        texts = [p.text for p in paragraphs]
        footer_at = next((i for i, t in enumerate(texts) if _FOOTER_START.match(t) or _PRINTED.match(t)), len(texts))
        first_content = next((i for i, t in enumerate(texts[:footer_at]) if SECTION_MARKER.match(t)), None)
        header_end = first_content if first_content is not None else self._header_end(texts[:footer_at])

        header = texts[:header_end]
        footer = texts[footer_at:]
        issuer, issue_date, issue_no = self._read_header(header)
        footer_meta = self._read_footer(footer)
        date_source = "header" if issue_date else None
        if not issue_date and footer_meta.get("printed_date"):
            issue_date, date_source = footer_meta["printed_date"], "footer"
            issuer = issuer or footer_meta.get("printed_by")

        # Lay out the cleaned text, merging each item's title lines into one.
        groups = self._group(paragraphs, header_end, footer_at)
        blocks: list[_Block] = []
        pieces: list[str] = []
        offset = 0

        def place(text: str, lines: int) -> _Block:
            nonlocal offset
            if pieces:
                pieces.append("\n")
                offset += 1
            block = _Block(text, offset, lines)
            pieces.append(text)
            offset += len(text)
            blocks.append(block)
            return block

        items: list[Item] = []
        for kind, payload in groups:
            if kind == "line":
                place(payload.text, payload.lines)
                continue
            section, title_parts, body = payload
            if title_parts:
                title_block = place("".join(p.text for p in title_parts), 1)
            else:
                title_block = _Block("", offset + (1 if pieces else 0), 0)  # untitled: empty span
            body_blocks = [place(p.text, p.lines) for p in body]
            items.append(self._item(len(items), section, title_block, body_blocks, issue_date))
        text_clean = "".join(pieces)

        date_estimate = basis = None
        if not issue_date:
            year = latest_year_reported(text_clean)
            if year:
                date_estimate = str(year)
                basis = f"估计：不早于{year}年（正文所述最晚年份），原件页眉页脚缺失"
        return Bulletin(
            doc_id=doc_id,
            path=path,
            sha256=sha256,
            encoding=encoding,
            issuer=issuer,
            date=issue_date,
            date_source=date_source,
            date_estimate=date_estimate,
            date_estimate_basis=basis,
            issue_no=issue_no,
            text_clean=text_clean,
            items=tuple(items),
            metadata={"footer": footer_meta, "header_lines": header},
        )

    # -- header and footer -------------------------------------------------
    @staticmethod
    def _header_end(texts: list[str]) -> int:
        """Without a section marker: the header is the leading lines carrying a date or issue number."""
        end = 0
        for i, text in enumerate(texts[:4]):
            if _HEADER.match(text) or _ISSUE_NO.fullmatch(text) or "工作简报" in text and len(text) < 30:
                end = i + 1
        return end

    @staticmethod
    def _read_header(header: list[str]) -> tuple[str | None, str | None, str | None]:
        issuer = issue_date = issue_no = None
        for text in header:
            match = _HEADER.match(text)
            if match:
                issuer, issue_date = match["issuer"], parse_cn_date(match["date"])
            number = _ISSUE_NO.search(text)
            if number and issue_no is None:
                issue_no = f"第{number[1]}期"
        return issuer, issue_date, issue_no

    @staticmethod
    def _read_footer(footer: list[str]) -> dict:
        meta: dict = {}
        last_key = None
        for text in footer:
            printed = _PRINTED.match(text)
            copies = _COPIES.match(text)
            if printed:
                meta["printed_by"] = printed["org"] or None
                meta["printed_date"] = parse_cn_date(printed["date"])
                last_key = None
            elif copies:
                meta["copies"] = int(copies[1])
            elif text.startswith("信息公开选项"):
                meta["disclosure"] = text.split("：", 1)[-1]
            elif text[:1] in "报送发抄" and text[1:2] in "：:":
                last_key = text[0]
                meta.setdefault("distribution", {})[last_key] = text[2:]
            elif last_key:  # a distribution list continued on the next line
                meta["distribution"][last_key] += text
        return meta

    # -- items -------------------------------------------------------------
    def _group(self, paragraphs: list[Paragraph], start: int, stop: int) -> list[tuple[str, object]]:
        """Split paragraphs into loose lines and (section, title parts, body) items."""
        out: list[tuple[str, object]] = [("line", p) for p in paragraphs[:start]]
        section = None
        i = start
        while i < stop:
            para = paragraphs[i]
            block = _Block(para.text, 0, para.lines)
            marker = SECTION_MARKER.match(para.text)
            if marker:
                section = marker[1]
                out.append(("line", para))
                i += 1
                continue
            if URL_LINE.match(para.text) or trailing_source(para.text) and para.text.startswith("（"):
                out.append(("line", para))  # stray link or orphan source line between items
                i += 1
                continue
            # Title: one line, or two short lines printed as one title. An item
            # that starts with a full paragraph has no title.
            title = [para] if is_title_like(block) else []
            i += len(title)
            if title and i < stop and is_title_like(_Block(paragraphs[i].text, 0, paragraphs[i].lines)):
                if not SECTION_MARKER.match(paragraphs[i].text) and len(para.text) + len(paragraphs[i].text) <= TITLE_MAX + 10:
                    title.append(paragraphs[i])
                    i += 1
            body: list[Paragraph] = []
            while i < stop and not SECTION_MARKER.match(paragraphs[i].text):
                body.append(paragraphs[i])
                i += 1
                if trailing_source(body[-1].text):
                    break
            out.append(("item", (section, title, body)))
        out.extend(("line", p) for p in paragraphs[stop:])
        return out

    def _item(self, index: int, section: str | None, title_block: _Block, body: list[_Block], issue_date: str | None) -> Item:
        subtitle = None
        if body and body[0].lines > 1 and len(body[0].text) <= 60 and body[0].text[-1] not in _SENTENCE_END:
            subtitle = body[0].text  # a wrapped subtitle printed under the title
        source_org = source_span = None
        body_end = body[-1].end if body else title_block.end
        if body:
            found = trailing_source(body[-1].text)
            if found:
                source_org, at = found
                source_span = Span(body[-1].start + at, body[-1].end)
                body_end = body[-1].start + at if at else (body[-2].end if len(body) > 1 else body[-1].start)
        body_start = body[0].start if body else title_block.end
        body_blocks = [b for b in body if b.start < body_end]
        combined = bool(source_org and source_org.startswith("综合"))
        spans = self._report_spans(body_blocks, body_end) if combined else [Span(body_start, max(body_start, body_end))]
        text_of = lambda span: self._text_of(body, span)  # noqa: E731
        reports = tuple(self._report(span, text_of(span), issue_date) for span in spans if span.end > span.start)

        whole = " ".join([title_block.text, source_org or "", text_of(Span(body_start, body_end))])
        labels, cities = self._places(whole)
        return Item(
            index=index,
            section=section,
            title=title_block.text,
            subtitle=subtitle,
            title_span=Span(title_block.start, title_block.end),
            body_span=Span(body_start, max(body_start, body_end)),
            source_org=source_org,
            source_span=source_span,
            combined=combined,
            reports=reports,
            places=labels,
            cities=cities,
            event_dates=tuple(event_dates(whole, issue_date)),
        )

    @staticmethod
    def _text_of(blocks: list[_Block], span: Span) -> str:
        parts = []
        for block in blocks:
            lo, hi = max(block.start, span.start), min(block.end, span.end)
            if lo < hi:
                parts.append(block.text[lo - block.start : hi - block.start])
        return "\n".join(parts)

    @staticmethod
    def _report_spans(blocks: list[_Block], body_end: int) -> list[Span]:
        starts = [blocks[0].start] if blocks else []
        starts += [b.start for b in blocks[1:] if _REPORT_LEAD.match(b.text)]
        ends = [s - 1 for s in starts[1:]] + [body_end]  # -1: the newline between
        return [Span(s, e) for s, e in zip(starts, ends)]

    def _report(self, span: Span, text: str, issue_date: str | None) -> Report:
        labels, cities = self._places(text)
        return Report(span=span, places=labels, cities=cities, event_dates=tuple(event_dates(text, issue_date)))

    def _places(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        places = self.gazetteer.places_in(text)
        labels = tuple(dict.fromkeys(p.label for p in places))
        cities = tuple(dict.fromkeys(p.city for p in places))
        return labels, cities
