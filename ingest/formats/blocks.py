"""Structured documents (DOCX, HTML, Markdown) -> the paragraphs BulletinParser reads.

These formats already know their paragraphs, so they skip the line-rejoining
cleaner. The parser decides titles by `Paragraph.lines` (a title is one printed
line, short and unpunctuated): a paragraph the author marked as a heading (a
heading style, <h2>, "## ", or bold throughout) counts as one line; any other
paragraph counts the lines it would take printed in a bulletin's ~30-character
column. A short unmarked line can thus still be a title, exactly as in a TXT.

Text pasted from a PDF into Word or a web page keeps the printed line breaks,
one "paragraph" per ~30-character line: that is recognised by the same layout
test the cleaner uses, and then the cleaner rejoins the lines as for a TXT.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ingest.cleaning import (
    Paragraph,
    clean_paragraphs,
    display_width,
    full_width,
    normalise_spaces,
    physical_lines,
)

PRINTED_LINE_WIDTH = 60  # half-width units: 30 Chinese characters, a bulletin's printed line
HEADING_MAX_CHARS = 40  # a bold paragraph longer than this is emphasis, not a title
_BLANK = re.compile(r"[\s\u200b\ufeff]+")


@dataclass(frozen=True)
class Block:
    text: str
    heading: bool = False  # marked as a heading or title by the author


def split_lines(blocks: list[Block]) -> list[Block]:
    """One block per line: a manual line break (<br>, Shift+Enter) also ends a printed line."""
    out = []
    for block in blocks:
        for line in block.text.replace("\xa0", " ").split("\n"):
            if _BLANK.sub("", line):
                out.append(Block(line.strip(), block.heading))
    return out


def looks_hard_wrapped(lines: list[str]) -> bool:
    """Pasted PDF text: most lines share one width and (almost) none is far wider. A short
    notice's lines can share a width too, but its real paragraphs run far past it."""
    full = full_width(lines)
    if full is None:
        return False
    wide = sum(1 for line in lines if display_width(line) > full * 1.5)
    return wide <= max(1, len(lines) // 10) if len(lines) >= 20 else wide == 0


def paragraphs_from_blocks(blocks: list[Block]) -> list[Paragraph]:
    blocks = split_lines(blocks)
    if looks_hard_wrapped(physical_lines("\n".join(b.text for b in blocks))):
        return clean_paragraphs("\n".join(b.text for b in blocks))  # hard-wrapped PDF text
    paragraphs = []
    for block in blocks:
        text = normalise_spaces(block.text)
        if not text:
            continue
        if block.heading and len(text) <= HEADING_MAX_CHARS:
            lines = 1
        else:
            lines = max(1, math.ceil(display_width(text) / PRINTED_LINE_WIDTH))
        paragraphs.append(Paragraph(text, lines))
    return paragraphs
