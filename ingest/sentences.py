"""Sentences and answer units: the one home of sentence splitting.

In a passage a sentence ends at 。！？； (or a line break), keeping a closing quote or bracket.
An *answer unit* is what a reply may quote: a sentence, or, in a long sentence that
enumerates (一是…，二是…; （一）…（二）…; 第一…第二…), each enumerated clause, so a reply can
quote the one point that answers instead of a whole paragraph. Units are cut the same way at
ingest (their vectors are stored with the index, index/sentence_vectors.py) and when a reply
is composed (answer/sentences.py), so a unit's text finds its stored vector.
"""

from __future__ import annotations

import re

_ENDS = "。！？；!?"
_CLOSERS = "”’」』）)"
_SENTENCE = re.compile(rf"[^{_ENDS}\n]+(?:[{_ENDS}]+[{_CLOSERS}]*|(?=\n)|$)")
# Where an enumerated point starts inside a sentence: after a comma or colon, "二是", "（二）",
# "第二，", "2." …; the first point ("一是") stays with the sentence's lead-in.
_POINT = re.compile(
    r"(?<=[，,：:])\s*(?=[二三四五六七八九十]是|（[二三四五六七八九十]）|\([二三四五六七八九十]\)"
    r"|第[二三四五六七八九十][，,、]|[2-9][.、．])"
)
LONG_SENTENCE = 60  # characters: shorter sentences are quoted whole


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; offsets index `text`."""
    spans = []
    for match in _SENTENCE.finditer(text):
        span = _trimmed(text, *match.span())
        if span[1] - span[0] >= 2:
            spans.append(span)
    return spans


def answer_units(text: str) -> list[tuple[int, int]]:
    """(start, end) of each answer unit (see the module docstring), in text order."""
    units = []
    for start, end in split_sentences(text):
        if end - start < LONG_SENTENCE:
            units.append((start, end))
            continue
        cuts = [start] + [start + m.start() for m in _POINT.finditer(text[start:end])] + [end]
        for low, high in zip(cuts, cuts[1:]):
            span = _trimmed(text, low, high)
            if span[1] - span[0] >= 2:
                units.append(span)
    return units


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
