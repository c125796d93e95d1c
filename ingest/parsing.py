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
from ingest.dates import event_dates, iso, latest_year_reported, parse_cn_date
from ingest.model import Bulletin, Item, Report, Span
from ingest.places import Gazetteer

_FOOTER_START = re.compile(r"^(信息公开选项|[报送发抄][:：])")
_PRINTED = re.compile(r"^(?P<org>\S*?)\s*(?P<date>\d{4}年\d{1,2}月\d{1,2}日)印发$")
_COPIES = re.compile(r"^（共印(\d+)份）$")
_HEADER = re.compile(
    r"^(?P<issuer>\S*?(办公室|办|中心|委员会))\s*(?P<date>\d{4}年\d{1,2}月\d{1,2}日)$"
)
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


def _date_estimate(text_clean: str) -> tuple[str | None, str | None]:
    """For a bulletin without a date: the latest year its text reports, and the basis shown."""
    year = latest_year_reported(text_clean)
    if not year:
        return None, None
    return str(year), f"估计：不早于{year}年（正文所述最晚年份），原件页眉页脚缺失"


class BulletinParser:
    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer

    def parse(
        self, paragraphs: list[Paragraph], *, doc_id: str, path: str, sha256: str, encoding: str
    ) -> Bulletin:
        texts = [p.text for p in paragraphs]
        header_end, footer_at = self._header_and_footer(texts)
        header = texts[:header_end]
        issuer, issue_date, issue_no = self._read_header(header)
        footer_info = self._read_footer(texts[footer_at:])
        date_source = "header" if issue_date else None
        if not issue_date and footer_info.get("printed_date"):
            issue_date, date_source = footer_info["printed_date"], "footer"
            issuer = issuer or footer_info.get("printed_by")
        text_clean, items = self._lay_out(paragraphs, header_end, footer_at, issue_date)
        date_estimate, basis = (None, None) if issue_date else _date_estimate(text_clean)
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
            metadata={"footer": footer_info, "header_lines": header},
        )

    def _header_and_footer(self, texts: list[str]) -> tuple[int, int]:
        """Where the header ends and the footer starts (paragraph indexes)."""
        footer_at = next(
            (i for i, t in enumerate(texts) if _FOOTER_START.match(t) or _PRINTED.match(t)),
            len(texts),
        )
        first_content = next(
            (i for i, t in enumerate(texts[:footer_at]) if SECTION_MARKER.match(t)), None
        )
        header_end = (
            first_content if first_content is not None else self._header_end(texts[:footer_at])
        )
        return header_end, footer_at

    def _lay_out(
        self,
        paragraphs: list[Paragraph],
        header_end: int,
        footer_at: int,
        issue_date: str | None,
    ) -> tuple[str, list[Item]]:
        """The cleaned text and its items, each item's title lines merged into one."""
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
        return "".join(pieces), items

    # -- header and footer -------------------------------------------------
    @staticmethod
    def _header_end(texts: list[str]) -> int:
        """Without a section marker: the header is the leading lines carrying a date or issue
        number."""
        end = 0
        for i, text in enumerate(texts[:4]):
            if (
                _HEADER.match(text)
                or _ISSUE_NO.fullmatch(text)
                or "工作简报" in text
                and len(text) < 30
            ):
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
        info: dict = {}
        last_key = None
        for text in footer:
            printed = _PRINTED.match(text)
            copies = _COPIES.match(text)
            if printed:
                info["printed_by"] = printed["org"] or None
                info["printed_date"] = parse_cn_date(printed["date"])
                last_key = None
            elif copies:
                info["copies"] = int(copies[1])
            elif text.startswith("信息公开选项"):
                info["disclosure"] = text.split("：", 1)[-1]
            elif text[:1] in "报送发抄" and text[1:2] in "：:":
                last_key = text[0]
                info.setdefault("distribution", {})[last_key] = text[2:]
            elif last_key:  # a distribution list continued on the next line
                info["distribution"][last_key] += text
        return info

    # -- items -------------------------------------------------------------
    def _group(
        self, paragraphs: list[Paragraph], start: int, stop: int
    ) -> list[tuple[str, object]]:
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
            if (
                URL_LINE.match(para.text)
                or trailing_source(para.text)
                and para.text.startswith("（")
            ):
                out.append(("line", para))  # stray link or orphan source line between items
                i += 1
                continue
            # Title: one line, or two short lines printed as one title. An item
            # that starts with a full paragraph has no title.
            title = [para] if is_title_like(block) else []
            i += len(title)
            if (
                title
                and i < stop
                and is_title_like(_Block(paragraphs[i].text, 0, paragraphs[i].lines))
            ):
                if (
                    not SECTION_MARKER.match(paragraphs[i].text)
                    and len(para.text) + len(paragraphs[i].text) <= TITLE_MAX + 10
                ):
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

    def _item(
        self,
        index: int,
        section: str | None,
        title_block: _Block,
        body: list[_Block],
        issue_date: str | None,
    ) -> Item:
        subtitle = None
        if (
            body
            and body[0].lines > 1
            and len(body[0].text) <= 60
            and body[0].text[-1] not in _SENTENCE_END
        ):
            subtitle = body[0].text  # a wrapped subtitle printed under the title
        source_org = source_span = None
        body_end = body[-1].end if body else title_block.end
        if body:
            found = trailing_source(body[-1].text)
            if found:
                source_org, at = found
                source_span = Span(body[-1].start + at, body[-1].end)
                body_end = (
                    body[-1].start + at
                    if at
                    else (body[-2].end if len(body) > 1 else body[-1].start)
                )
        body_start = body[0].start if body else title_block.end
        body_blocks = [b for b in body if b.start < body_end]
        combined = bool(source_org and source_org.startswith("综合"))
        spans = (
            self._report_spans(body_blocks, body_end)
            if combined
            else [Span(body_start, max(body_start, body_end))]
        )
        text_of = lambda span: self._text_of(body, span)  # noqa: E731
        reports = tuple(
            self._report(span, text_of(span), issue_date) for span in spans if span.end > span.start
        )

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
        return Report(
            span=span,
            places=labels,
            cities=cities,
            event_dates=tuple(event_dates(text, issue_date)),
        )

    def _places(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        places = self.gazetteer.places_in(text)
        labels = tuple(dict.fromkeys(p.label for p in places))
        cities = tuple(dict.fromkeys(p.city for p in places))
        return labels, cities


# -- documents that are not bulletins ------------------------------------------
# A notice (通知), a letter (函), a policy text (办法/意见), a yearbook chapter: no
# masthead, no trailing source lines. They are indexed as plain documents in the
# same Bulletin/Item/Report types, so chunking, the index and the UI need nothing new.

PLAIN_DOCUMENT_WARNING = (
    "不是简报格式，已按普通文档索引（标题取首行）/ "
    "not a bulletin: indexed as a plain document (title from its first line)"
)
DOC_TITLE_MAX = 60  # 公文 titles run long: "关于印发《…办法》的通知"
ITEM_TARGET = 400  # characters: short paragraphs run together up to this, so chunks stay readable
# Headings that start a new item: 第一章 / 第二节 / 第三条, 一、, 附件1：,
# a yearbook entry's 【概况】.
_ITEM_START = re.compile(
    r"^(第[一二三四五六七八九十百零〇两\d]+[编章节条]|[一二三四五六七八九十]{1,3}[、．.]|附件\s*\d*\s*[:：]?"
    r"|【[^】]{1,20}】)"
)
# Red-header lines printed above a 公文's title: "四川省人民政府文件", "川府发〔2023〕5号".
_MASTHEAD = re.compile(r"^\S{2,30}文件$|[〔\[［(（]\d{4}[〕\]］)）]\s*第?\d+\s*号$")
# The second half of a title printed on two lines ends in the kind of document.
_DOC_KIND = re.compile(
    r"(通知|通报|函|办法|意见|规定|决定|方案|报告|纪要|批复|请示|细则|规则|制度|公告|通告|决议|条例|章程"
    r"|要点|计划|规划|总结|讲话|指引|指南|标准|说明)(（[^（）]{1,10}）)?$"
)
_CN_DIGIT = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_FULL_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_CN_FULL_DATE = re.compile(
    r"([〇零○Ｏ一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日"
)
_DATE_LINE_TAIL = ("", "印发", "发布", "签发")
# paragraphs at the end searched for the signature date (落款), then at the start
_SIGNATURE_SCAN = 6
_CLAUSE_MARKS = "。！？；，、：:"


def looks_like_bulletin(bulletin: Bulletin) -> bool:
    """Marks only a bulletin has: an item's trailing source office, or a masthead with the
    issue date, an issue number or "简报". Section markers alone are not enough:
    yearbooks use 【…】 too."""
    header = bulletin.metadata.get("header_lines") or []
    return bool(
        any(item.source_org for item in bulletin.items)
        or bulletin.issue_no
        or bulletin.date_source == "header"
        or any("简报" in line for line in header)
    )


def _cn_number(text: str) -> int:
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[ones] if ones else 0)
    return _CN_DIGIT[text]


def _find_full_date(text: str) -> tuple[str, int, int] | None:
    """(ISO date, start, end) of the first full date: "2023年5月6日" or "二〇二三年五月六日"."""
    for match in _FULL_DATE.finditer(text):
        value = parse_cn_date(match[0])
        if value:
            return value, match.start(), match.end()
    for match in _CN_FULL_DATE.finditer(text):
        try:
            year = int("".join(str(_CN_DIGIT[c]) for c in match[1]))
            value = iso(year, _cn_number(match[2]), _cn_number(match[3]))
        except KeyError:
            value = None
        if value:
            return value, match.start(), match.end()
    return None


def date_line(text: str) -> tuple[str, str | None] | None:
    """(ISO date, signing office or None) when the paragraph is a date line: "2023年5月6日",
    "四川省地方志工作办公室 2023年5月6日", "（2023年5月6日省政府第10次常务会议通过）".
    A date inside a sentence ("请于2023年6月30日前报送。") is not the document's date."""
    found = _find_full_date(text)
    if not found or len(text) > 60:
        return None
    value, start, end = found
    if text[0] in "（(" and text[-1] in "）)":
        return value, None
    head, tail = text[:start].strip(), text[end:].strip()
    if tail not in _DATE_LINE_TAIL or len(head) > 30 or any(c in head for c in _CLAUSE_MARKS):
        return None
    return value, head or None


def _is_heading_line(text: str) -> bool:
    """A standalone heading ("一、检查内容", "第一章 总则"), not an article with its text."""
    return (
        bool(_ITEM_START.match(text)) and len(text) <= TITLE_MAX and text[-1] not in _SENTENCE_END
    )


def _is_doc_title(text: str) -> bool:
    return (
        len(text) <= DOC_TITLE_MAX
        and text[-1] not in _SENTENCE_END
        and not URL_LINE.match(text)
        and not _ITEM_START.match(text)
        and date_line(text) is None
    )


class DocumentParser:
    """A document that is not a bulletin -> one Bulletin of plain items.

    Title: the first paragraph when it is short (after any red-header lines; a title
    printed on two lines is joined). Items: a paragraph, or a run of short paragraphs
    up to ITEM_TARGET characters; a heading ("一、", "第一条", "第一章") starts a new
    one. Every paragraph but the title lies in some item's body. Date: only a full
    date on a date line near the end (the signature, 落款) or the start; never a guess.
    """

    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer

    def parse(
        self, paragraphs: list[Paragraph], *, doc_id: str, path: str, sha256: str, encoding: str
    ) -> Bulletin:
        texts = [p.text for p in paragraphs if p.text.strip()]
        title_at = self._title_at(texts)
        blocks: list[_Block] = []
        offset = 0
        for text in texts:
            blocks.append(_Block(text, offset, 1))
            offset += len(text) + 1
        text_clean = "\n".join(texts)
        title_block = blocks[title_at] if title_at is not None else _Block("", 0, 0)
        body = [b for i, b in enumerate(blocks) if i != title_at] or (
            [title_block] if title_block.text else []
        )

        date, date_source, issuer = self._signature_date(texts, title_at)
        items = [
            self._item(n, group, title_block, date) for n, group in enumerate(self._group(body))
        ]
        return Bulletin(
            doc_id=doc_id,
            path=path,
            sha256=sha256,
            encoding=encoding,
            issuer=issuer,
            date=date,
            date_source=date_source,
            date_estimate=None,  # never a guess for a document
            date_estimate_basis=None,
            issue_no=None,
            text_clean=text_clean,
            items=tuple(items),
            metadata={"kind": "document", "title": title_block.text or None},
        )

    @staticmethod
    def _title_at(texts: list[str]) -> int | None:
        """The title's paragraph (after any red-header lines), if the document has one; a title
        printed on two lines is joined into one, in place."""
        at = next((i for i, t in enumerate(texts) if not _MASTHEAD.search(t)), len(texts))
        title_at = at if at < len(texts) and _is_doc_title(texts[at]) else None
        if title_at is not None and title_at + 1 < len(texts):
            first, second = texts[title_at], texts[title_at + 1]
            if (
                _is_doc_title(second)
                and _DOC_KIND.search(second)
                and not _DOC_KIND.search(first)
                and len(first) + len(second) <= DOC_TITLE_MAX
            ):
                # a title printed on two lines: one line
                texts[title_at : title_at + 2] = [first + second]
        return title_at

    def _signature_date(
        self, texts: list[str], title_at: int | None
    ) -> tuple[str | None, str | None, str | None]:
        """(date, "footer" or "header", issuer) from a date line near the end (the signature,
        落款), else near the start; all None when there is none."""
        tail = [
            i
            for i in range(len(texts) - 1, max(-1, len(texts) - 1 - _SIGNATURE_SCAN), -1)
            if i != title_at
        ]
        head = [
            i for i in range(min(len(texts), _SIGNATURE_SCAN)) if i != title_at and i not in tail
        ]
        for where, indexes in (("footer", tail), ("header", head)):
            found = [(i, date_line(texts[i])) for i in indexes]
            found = [(i, d) for i, d in found if d]
            # The signing date beats a later "…印发" (printed) line in the 版记.
            found.sort(key=lambda f: texts[f[0]].endswith(("印发", "发布")))
            if found:
                i, (date, issuer) = found[0]
                if issuer is None and where == "footer" and i > 0 and i - 1 != title_at:
                    issuer = self._signing_office(texts[i - 1])
                return date, where, issuer
        return None, None, None

    @staticmethod
    def _signing_office(text: str) -> str | None:
        """The office signed above the date ("四川省地方志工作办公室"), if the line is one."""
        if (
            len(text) <= 30
            and not any(c in text for c in _CLAUSE_MARKS + "。")
            and _ORG_WORDS.search(text)
        ):
            return text
        return None

    @staticmethod
    def _group(body: list[_Block]) -> list[list[_Block]]:
        groups: list[list[_Block]] = []
        current: list[_Block] = []
        for block in body:
            if current and not all(_is_heading_line(b.text) for b in current):
                size = sum(len(b.text) for b in current)
                if _ITEM_START.match(block.text) or size + len(block.text) > ITEM_TARGET:
                    groups.append(current)
                    current = []
            current.append(block)
        if current:
            groups.append(current)
        return groups

    def _item(self, index: int, group: list[_Block], title_block: _Block, date: str | None) -> Item:
        # The first item may begin above the title (red-header lines): its body then spans the
        # title line.
        body = Span(group[0].start, group[-1].end)
        headings = []
        for block in group:
            if not _is_heading_line(block.text) or block is group[-1]:
                break
            headings.append(block.text)
        body_text = "\n".join(b.text for b in group)
        whole = f"{title_block.text} {body_text}" if index == 0 else body_text
        labels, cities = self._places(whole)
        dates = tuple(event_dates(whole, date))
        return Item(
            index=index,
            section=None,
            title=title_block.text,
            subtitle=" ".join(headings) or None,
            title_span=Span(title_block.start, title_block.end),
            body_span=body,
            source_org=None,
            source_span=None,
            combined=False,
            reports=(Report(span=body, places=labels, cities=cities, event_dates=dates),),
            places=labels,
            cities=cities,
            event_dates=dates,
        )

    def _places(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        places = self.gazetteer.places_in(text)
        return tuple(dict.fromkeys(p.label for p in places)), tuple(
            dict.fromkeys(p.city for p in places)
        )
