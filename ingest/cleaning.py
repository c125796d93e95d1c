"""Repair the damage PDF text extraction did to a bulletin.

The extracted text wraps every ~28 Chinese characters, puts a blank line
between wrapped lines, marks page breaks with a leading space, sprinkles
spaces around digits ("10 月 21 日") and repeats some lines (a URL). The result
here is a list of paragraphs that reads like the printed bulletin; citations
point into it, so nothing is rewritten beyond whitespace and duplicate lines.

Where a paragraph ends is inferred from the print layout: a wrapped line runs
to the full width, a paragraph's last line usually stops short, and a new
paragraph's first line is indented by two characters (so it is a little
narrower than a full line).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass

# Characters that end a sentence or clause at a paragraph end.
TERMINALS = "。！？；：…”’」』）)"
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2018-\u201d\u2026\u2014"
_DATE_LEAD = re.compile(
    r"^(\d{4}\s*年\s*)?\d{1,2}\s*月(\s*\d{1,2}\s*日|[上中下]旬|初|底)|^\d{4}\s*年[，,]"
)
SECTION_MARKER = re.compile(r"^【([^】]{1,12})】$")  # group 1: the section name
_FOOTER_START = re.compile(r"^(信息公开选项|[报送发抄][:：]|（共印\s*\d+\s*份）)")
_PRINTED_ON = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印发$")
URL_LINE = re.compile(r"^(https?://|www\.)\S+$")
_SOURCE_LINE = re.compile(r"^（[^（）]*(（[^（）]*）[^（）]*)*）$")


@dataclass(frozen=True)
class Paragraph:
    text: str
    lines: int  # physical lines it was joined from (a title never wraps)


def display_width(text: str) -> int:
    """Width in half-width units, as the PDF laid the line out."""
    width = 0
    for char in text:
        if unicodedata.east_asian_width(char) in "WF" or char in "“”‘’…—·":
            width += 2
        else:
            width += 1
    return width


def is_structural(line: str) -> bool:
    """Lines that always stand alone: section markers, footer, URLs, source lines."""
    return bool(
        SECTION_MARKER.match(line)
        or _FOOTER_START.match(line)
        or _PRINTED_ON.search(line)
        or URL_LINE.match(line)
        or _SOURCE_LINE.match(line)
    )


def physical_lines(raw: str) -> list[str]:
    """Non-empty lines, page-break markers and exact repeats of the previous line dropped."""
    lines: list[str] = []
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip(" \t\u3000\ufeff\f")
        if not line:
            continue
        if lines and line == lines[-1]:
            continue  # e.g. the URL printed twice
        lines.append(line)
    return lines


def full_width(lines: list[str]) -> int | None:
    """The layout's full line width, or None when the text is not hard-wrapped."""
    widths = [display_width(line) for line in lines if display_width(line) >= 20]
    if len(widths) < 5:
        return None
    mode = statistics.mode(widths)
    near = sum(1 for w in widths if abs(w - mode) <= 4)
    if near / len(widths) < 0.35 or mode > 120:
        return None  # lines of all lengths: one paragraph per line already
    return mode


def ends_paragraph(line: str, next_line: str, full: int) -> bool:
    if is_structural(line) or is_structural(next_line) or next_line.startswith("（综合"):
        return True
    width = display_width(line)
    if line.count("（") > line.count("）") and width >= full * 0.7:
        return False  # e.g. a source line "（综合…" wrapped inside its parentheses
    if line[-1] not in TERMINALS:
        # Cut mid-sentence unless it stops well short of the margin (a title or
        # heading). Digits and spaces make widths of dated lines approximate.
        return width < full * 0.85
    if width < full - 5:
        return True  # a sentence ends short of the margin: the paragraph's last line
    if _DATE_LEAD.match(next_line):
        return True  # a new dated report
    # A full line ending a sentence continues unless the next line is indented.
    return display_width(next_line) <= full - 3


def join_wrapped(first: str, second: str) -> str:
    if (
        first[-1:].isascii()
        and first[-1:].isalpha()
        and second[:1].isascii()
        and second[:1].isalpha()
    ):
        return f"{first} {second}"  # an English word wrap came at a space
    return first + second


_SPACE_DIGIT = re.compile(rf"(?<=\d) +(?=[{_CJK}])|(?<=[{_CJK}]) +(?=\d)")
_SPACE_AFTER_PUNCT = re.compile(r"(?<=[。！？；：，、]) +")
# "四川省地方志工作办公室 2020年7月20日": the one space the header really has.
_ISSUER_DATE = re.compile(r"(办公室|综合处|中心) +(?=\d{4}\s*年)")
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[，。、；：！？）》”」』])")


def normalise_spaces(text: str) -> str:
    """Drop layout spaces; keep the deliberate one between two title phrases."""
    text = re.sub(r"[ \t\u3000]+", " ", text)
    text = _ISSUER_DATE.sub("\\1\u0000", text)  # protect it from the digit rule
    text = _SPACE_DIGIT.sub("", text)
    text = _SPACE_AFTER_PUNCT.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    return text.replace("\u0000", " ").strip()


def clean_paragraphs(raw: str) -> list[Paragraph]:
    lines = physical_lines(raw)
    full = full_width(lines)
    paragraphs: list[Paragraph] = []
    current, count = "", 0
    for i, line in enumerate(lines):
        current = join_wrapped(current, line) if current else line
        count += 1
        last = i == len(lines) - 1
        if last or full is None or ends_paragraph(line, lines[i + 1], full):
            paragraphs.append(Paragraph(normalise_spaces(current), count))
            current, count = "", 0
    return [p for p in paragraphs if p.text]


def clean_text(raw: str) -> str:
    return "\n".join(p.text for p in clean_paragraphs(raw))
