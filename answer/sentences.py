"""The extractive answer: the question's best sentences, verbatim, each with its [n].

Nothing is written that is not in a cited passage: a sentence is a span of a passage's
text, so it can be highlighted on the passage card and in the full bulletin.
Sentences are scored by how much of the question's weight (IDF of its words) they
carry; a passage's first sentence (usually who did what, when) gets a small lift, and
later passages a small penalty, so a tie goes to the better-ranked passage.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Sequence

# The one home of sentence splitting. In a passage a sentence ends at 。！？； (or a line
# break), keeping a closing quote or bracket. A model's reply is cited per full sentence
# ("……；……。[1]"): there only 。！？ end one, and the [n] markers that follow belong to it.
_ENDS = "。！？；!?"
_CLOSERS = "”’」』）)"
_FULL_STOPS = _ENDS.replace("；", "")
_SENTENCE = re.compile(rf"[^{_ENDS}\n]+(?:[{_ENDS}]+[{_CLOSERS}]*|(?=\n)|$)")
_CITED_SENTENCE = re.compile(rf"[^{_FULL_STOPS}\n]+[{_FULL_STOPS}]*(?:\s*\[\d{{1,2}}\])*")
MAX_SENTENCES = 3
MAX_PER_PASSAGE = 2
MAX_CHARS = 360
LEAD_BONUS = 0.08
RANK_PENALTY = 0.04


@dataclass(frozen=True)
class Sentence:
    passage: int  # 1-based number of the passage card it comes from
    start: int  # offsets in that passage's text
    end: int
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Reply:
    sentences: tuple[Sentence, ...]

    @property
    def text(self) -> str:
        """ "句子。[1] 句子。[2]": each sentence followed by its passage number."""
        return " ".join(f"{s.text}[{s.passage}]" for s in self.sentences)

    def highlights(self, passage: int) -> list[tuple[int, int]]:
        return [(s.start, s.end) for s in self.sentences if s.passage == passage]


def reply_sentences(reply: str) -> list[str]:
    """A model's reply cut into sentences, each with the [n] markers that follow it, stripped."""
    return [match.group().strip() for match in _CITED_SENTENCE.finditer(reply)]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; offsets index `text`."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start >= 2:
            spans.append((start, end))
    return spans


class SentenceScorer:
    """Share of the question's IDF weight that a sentence contains."""

    def __init__(
        self,
        tokenize: Callable[[str], list[str]],
        document_frequency: dict[str, int],
        documents: int,
    ):
        self.tokenize, self.df, self.n = tokenize, document_frequency, max(documents, 1)

    def idf(self, token: str) -> float:
        return math.log((self.n + 1) / (self.df.get(token, 0) + 0.5))

    def weights(self, question: str) -> dict[str, float]:
        return {t: self.idf(t) for t in dict.fromkeys(self.tokenize(question))}

    def score(self, weights: dict[str, float], sentence: str) -> float:
        total = sum(weights.values())
        if not total:
            return 0.0
        present = set(self.tokenize(sentence))
        return sum(w for t, w in weights.items() if t in present) / total


def extractive_answer(
    question: str,
    passages: Sequence[str],
    scorer: SentenceScorer,
    max_sentences: int = MAX_SENTENCES,
) -> Reply:
    """Pick the sentences that answer best, from passages in rank order (passage 1 first)."""
    weights = scorer.weights(question)
    candidates: list[Sentence] = []
    for number, text in enumerate(passages, 1):
        for position, (start, end) in enumerate(split_sentences(text)):
            overlap = scorer.score(weights, text[start:end])
            if overlap <= 0:
                continue
            score = overlap + (LEAD_BONUS if position == 0 else 0.0) - RANK_PENALTY * (number - 1)
            candidates.append(Sentence(number, start, end, text[start:end], score))
    if not candidates:  # no sentence shares a word with the question (an English one, say)
        return Reply(lead_sentences(passages, range(1, len(passages) + 1))[:1])
    chosen: list[Sentence] = []
    per_passage: dict[int, int] = {}
    length = 0
    for sentence in sorted(candidates, key=lambda s: (-s.score, s.passage, s.start)):
        if len(chosen) >= max_sentences:
            break
        if per_passage.get(sentence.passage, 0) >= MAX_PER_PASSAGE:
            continue
        if chosen and length + len(sentence.text) > MAX_CHARS:
            continue
        if chosen and sentence.score < chosen[0].score * 0.5:
            break  # much weaker than the best: more noise than answer
        chosen.append(sentence)
        per_passage[sentence.passage] = per_passage.get(sentence.passage, 0) + 1
        length += len(sentence.text)
    # Read in passage order, then text order, as the sources tell it.
    return Reply(tuple(sorted(chosen, key=lambda s: (s.passage, s.start))))


def lead_sentences(passages: Sequence[str], numbers: Sequence[int]) -> tuple[Sentence, ...]:
    """The first sentence of each numbered passage (1-based) that has one: a report's
    first sentence (who did what, when) is its best summary."""
    out = []
    for number in numbers:
        spans = split_sentences(passages[number - 1])
        if spans:
            start, end = spans[0]
            out.append(Sentence(number, start, end, passages[number - 1][start:end]))
    return tuple(out)
