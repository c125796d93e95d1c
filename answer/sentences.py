"""The extractive answer: the units that answer the question, verbatim, each with its [n].

Nothing is written that is not in a cited passage: a unit (a sentence, or one point of a
long enumeration: ingest/sentences.py) is a span of a passage's text, so it can be
highlighted on the passage card and in the full bulletin.

How units are chosen (measured in docs/retrieval-quality.md, "Reply sentences"):
- each unit scores by meaning, the cosine of the question's vector with the unit's
  (stored with the index), and by words, the share of the question's IDF weight it
  carries; both are standardised over the candidates so neither scale dominates;
- only passages the question fits are quoted (`eligible`: when it names a place, that
  place's items), so another place's item never speaks for the one asked;
- the best unit's item is the answer: its strong units are quoted in the bulletin's order;
  another item adds one unit only when it scores nearly as well (context that helps).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Collection, Sequence

import numpy as np

from index.bm25_segments import document_frequencies
from index.tokenizer import make_tokenizer
from ingest.sentences import answer_units, split_sentences

# A model's reply is cited per full sentence ("……；……。[1]"): there only 。！？ end one, and
# the [n] markers that follow belong to it.
_FULL_STOPS = "。！？!?"
_CITED_SENTENCE = re.compile(rf"[^{_FULL_STOPS}\n]+[{_FULL_STOPS}]*(?:\s*\[\d{{1,2}}\])*")
MAX_SENTENCES = 4
MAX_PER_PASSAGE = 4
MAX_CHARS = 360
# Weights of the standardised signals, and how far below the best a unit may score and still
# be quoted (in standard deviations): from the answer's own item, from another item.
SEMANTIC_WEIGHT = 0.25
LEXICAL_WEIGHT = 1.0
LEAD_BONUS = 0.3
SAME_ITEM_MARGIN = 1.5
OTHER_ITEM_MARGIN = 0.3


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


class SentenceScorer:
    """Share of the question's IDF weight that a sentence contains."""

    @classmethod
    def of_bm25(cls, bm25, tokenize: Callable[[str], list[str]]) -> "SentenceScorer":
        """Document frequencies read from the index's BM25 (index/bm25_segments.py), so nothing
        is re-tokenised."""
        if bm25 is None:
            return cls(tokenize, {}, 0)
        return cls(tokenize, *document_frequencies(bm25))

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

    def score(self, weights: dict[str, float], sentence: str, context: str = "") -> float:
        """Share of the question's weight whose words are in the sentence, read together with
        `context` (its item's lead: who, when). A word the index never segmented out ("批"
        where the text has "批示") counts when it occurs inside the text."""
        total = sum(weights.values())
        if not total:
            return 0.0
        text = f"{sentence}{context}"
        present = set(self.tokenize(text))
        squeezed = re.sub(r"\s+", "", text).lower()
        return (
            sum(
                w
                for t, w in weights.items()
                if t in present or (not self.df.get(t) and t in squeezed)
            )
            / total
        )


SemanticScorer = Callable[[list[str]], np.ndarray]  # unit texts -> cosine with the question


def extractive_answer(
    question: str,
    passages: Sequence[str],
    scorer: SentenceScorer,
    max_sentences: int = MAX_SENTENCES,
    semantic: SemanticScorer | None = None,
    eligible: Collection[int] | None = None,
    titles: Sequence[str] | None = None,
) -> Reply:
    """Pick the units that answer best (see the module docstring) from passages in rank
    order (passage 1 first); `eligible`: the passage numbers that may be quoted (None: all);
    `titles`: each passage's item title, read with its units like the lead."""
    candidates, any_word = _candidates(
        question, passages, scorer, semantic, eligible, titles or [""] * len(passages)
    )
    if not candidates:
        return Reply(())
    if not any_word and semantic is None:
        # no unit shares a word with the question and meaning is unavailable: the best
        # eligible passage's lead is its summary
        first = min(c.passage for c in candidates)
        return Reply(lead_sentences(passages, [first])[:1])
    return Reply(_choose(candidates, max_sentences))


@dataclass(frozen=True)
class _Candidate:
    unit: Sentence
    position: int  # the unit's place in its passage (0: the lead)
    words: float  # share of the question's IDF weight it carries
    meaning: float  # cosine with the question (nan when unknown)


def _candidates(
    question: str,
    passages: Sequence[str],
    scorer: SentenceScorer,
    semantic: SemanticScorer | None,
    eligible: Collection[int] | None,
    titles: Sequence[str],
) -> tuple[list[Sentence], bool]:
    """The eligible passages' units with their combined scores, and whether any unit shares
    a word with the question."""
    weights = scorer.weights(question)
    raw: list[_Candidate] = []
    for number, (text, title) in enumerate(zip(passages, titles), 1):
        if eligible is not None and number not in eligible:
            continue
        lead = ""
        for position, (start, end) in enumerate(answer_units(text)):
            unit = Sentence(number, start, end, text[start:end])
            # A unit is read with its item's title and lead (who, when): it scores for the
            # words it adds, so the point that answers beats a lead full of the question's
            # names, and a passage cut from the middle of an item keeps its item's subject.
            words = scorer.score(weights, unit.text, title + lead)
            if position == 0:
                lead = unit.text
            if not _is_heading(text, end):  # a sub-heading is context, not an answer
                raw.append(_Candidate(unit, position, words, math.nan))
    if not raw:
        return [], False
    words = _standardised([c.words for c in raw])
    combined = LEXICAL_WEIGHT * words
    if semantic is not None:
        meaning = np.asarray(semantic([c.unit.text for c in raw]), dtype=np.float64)
        combined = combined + SEMANTIC_WEIGHT * _standardised(meaning)
    out = []
    for c, score in zip(raw, combined):
        bonus = LEAD_BONUS if c.position == 0 else 0.0
        out.append(
            Sentence(c.unit.passage, c.unit.start, c.unit.end, c.unit.text, float(score + bonus))
        )
    return out, any(c.words > 0 for c in raw)


def _is_heading(text: str, end: int) -> bool:
    """A unit ending a line (or the passage) without a sentence's final mark: a sub-heading
    inside an item ("深化年鉴质量意识，持续推动年鉴质量提升"), or a sentence the passage cuts."""
    line_ends = end >= len(text.rstrip()) or text[end] == "\n"
    return line_ends and not re.search(r"[。！？；!?…][”’」』）)]*$", text[:end])


def _standardised(values) -> np.ndarray:
    """(v - mean) / std over the candidates; an unknown value (nan) counts as the mean."""
    v = np.asarray(values, dtype=np.float64)
    known = v[~np.isnan(v)]
    if not len(known):
        return np.zeros_like(v)
    spread = known.std() or 1.0
    return np.nan_to_num((v - known.mean()) / spread, nan=0.0)


def _choose(candidates: list[Sentence], max_sentences: int) -> tuple[Sentence, ...]:
    """The best unit's item first (its strong units, in text order), then one unit from each
    other item that scores nearly as well."""
    ranked = sorted(candidates, key=lambda s: (-s.score, s.passage, s.start))
    best = ranked[0]
    own = [best]
    others: list[Sentence] = []
    length = len(best.text)
    for unit in ranked[1:]:
        if len(own) + len(others) >= max_sentences:
            break
        if length + len(unit.text) > MAX_CHARS:
            continue
        if unit.passage == best.passage:
            if len(own) < MAX_PER_PASSAGE and unit.score >= best.score - SAME_ITEM_MARGIN:
                own.append(unit)
                length += len(unit.text)
        elif unit.score >= best.score - OTHER_ITEM_MARGIN and all(
            o.passage != unit.passage for o in others
        ):
            others.append(unit)
            length += len(unit.text)
    return tuple(sorted(own, key=lambda s: s.start)) + tuple(others)


def scorer_for(engine) -> SentenceScorer:
    """The index's IDF scorer, made once per loaded index and kept on it (two threads may
    both make it; each uses its own)."""
    scorer = getattr(engine, "_sentence_scorer", None)
    if scorer is None:
        tokenize = make_tokenizer(engine.manifest["pipeline"]["tokenizer"])
        scorer = SentenceScorer.of_bm25(engine.stored.bm25, tokenize)
        engine._sentence_scorer = scorer
    return scorer


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
