"""Carry PDF page numbers from the extracted text over to the cleaned text.

Cleaning and parsing only drop whitespace and exact repeated lines and keep
the order of everything else, so the cleaned text's characters are a
subsequence of the extracted text's. Walking both in step finds, for each
page, the cleaned offset of its first character; no offsets need threading
through the cleaner or the parser.
"""

from __future__ import annotations

LOOKAHEAD = 2000  # a character not found this far ahead was not taken from the raw text


def clean_page_starts(
    raw: str, raw_page_starts: tuple[int, ...], text_clean: str
) -> tuple[int, ...]:
    """Offsets in text_clean where pages 1, 2, ... begin (page 1 always at 0).

    A page that left no text (blank, or only a header) starts where the next one does."""
    if not raw_page_starts:
        return ()
    starts = [0]
    next_page = 1  # index into raw_page_starts of the next boundary to place
    cursor = 0  # position in raw
    for offset, char in enumerate(text_clean):
        if char.isspace():
            continue
        found = raw.find(char, cursor, cursor + LOOKAHEAD)
        if found < 0:
            continue  # not from the raw text (cannot happen today): keep the cursor
        while next_page < len(raw_page_starts) and found >= raw_page_starts[next_page]:
            starts.append(offset)
            next_page += 1
        cursor = found + 1
    starts.extend([len(text_clean)] * (len(raw_page_starts) - len(starts)))
    return tuple(starts)


def pages_between(page_starts: tuple[int, ...] | None, start: int, end: int) -> list[int] | None:
    """1-based page numbers that text_clean[start:end] spans; None without page information."""
    if not page_starts:
        return None
    from bisect import bisect_right

    first = bisect_right(page_starts, start)
    last = bisect_right(page_starts, max(start, end - 1))
    return list(range(max(first, 1), max(last, 1) + 1))
