"""Markdown (.md) -> blocks, with markdown-it-py (CommonMark).

Headings ("## 标题") and paragraphs that are bold throughout ("**标题**") are
marked as headings. Markup (emphasis, links, inline code) is dropped and its
text kept; a soft line break inside a paragraph joins the lines as the cleaner
does (no space between Chinese characters).
"""

from __future__ import annotations

from ingest.cleaning import join_wrapped
from ingest.formats.blocks import Block

_TEXT_TOKENS = ("text", "code_inline")


def read_markdown(text: str) -> list[Block]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[Block] = []
    heading = False
    for token in tokens:
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type == "inline":
            line, all_bold = _inline_text(token.children or [])
            blocks.append(Block(line, heading or all_bold))
        elif token.type in ("fence", "code_block"):
            blocks.extend(Block(line) for line in token.content.split("\n") if line.strip())
    return [b for b in blocks if b.text.strip()]


def _inline_text(children) -> tuple[str, bool]:
    """The visible text of an inline run, and whether all of it is bold (**...**)."""
    segments, breaks = [""], []  # text between line breaks, and the kind of each break
    bold_depth, bold_chars, chars = 0, 0, 0
    for child in children:
        if child.type == "strong_open":
            bold_depth += 1
        elif child.type == "strong_close":
            bold_depth -= 1
        elif child.type in _TEXT_TOKENS or child.type == "image":
            # an image's content is its alt text
            segments[-1] += child.content
            visible = len(child.content.strip())
            chars += visible
            bold_chars += visible if bold_depth else 0
        elif child.type in ("softbreak", "hardbreak"):
            segments.append("")
            breaks.append(child.type)
    text = segments[0]
    for kind, segment in zip(breaks, segments[1:]):
        # A soft break is a wrapped line of the same paragraph; a hard break ends a printed line.
        text = (
            join_wrapped(text, segment)
            if kind == "softbreak" and text and segment
            else text + "\n" + segment
        )
    return text, chars > 0 and bold_chars == chars
