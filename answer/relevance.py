"""Is anything in the index an answer? The "not found" decision the web chat and CLI show.

Decided on evidence in the passages the question retrieved, not on one score (measured in
docs/retrieval-quality.md, "Not found"), in this order:
1. a place the question names has no item: no indexed item is about that 市州 or county
   (眉山, or 汶川县 when only 阿坝州's own items are indexed);
2. the question's content words are unknown to the archive ("回锅肉怎么做"), or it has none
   and shares no rarer word with any passage (markup, junk, "What is the capital…");
3. the best passage the question fits (its place's items, when it names one) carries too
   little of the content words' weight (IDF): "泸州的X" when 泸州's items never mention X;
4. a year was asked (2021年…, 去年…), and every passage that carries the topic is dated in
   another year (a time inside the year, "2020年上半年", is not held to the month: a meeting
   in July sums up the first half; an undated passage goes by the year its text names, else
   its bulletin's estimated year).
Question words (什么, 哪些, 情况…) and words the archive never uses ("决定", "获得") are left
out of the weight: the first say nothing about the topic, the second would refuse ordinary
paraphrases. English questions are read through their Chinese expansion (index/expand.py and
its glossary), which covers only part of what they say: their floor is lower, it needs two
expanded words, and one expanded word without a place is too little to answer at all.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from answer.ask import UnderstoodSearch, ask
from answer.terms import content_terms, written_in_english
from index.engine import SearchEngine
from index.retrieval import Hit

# The BM25 floor of step 2, for questions without any content word (README, "Not found").
DEFAULT_MIN_BM25 = 1.5
MIN_BM25_ENV = "BULLETIN_MIN_BM25"
# A year the user named: "2021年", "去年", "last year" (not "下半年" alone: "下半年工作" is
# usually the item's own second half, not a time to hold passages to).
_YEAR_ASKED = re.compile(r"\d{4}|[今去前]年|近.{1,2}年|\b(?:last|this) year\b", re.IGNORECASE)
_YEAR_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*年")
# a final 么 is a particle, except in 什么 / 怎么 / 这么 / 那么 / 多么 ("做了什么" keeps its 么)
_TOPIC_EDGES = re.compile(
    r"^[\s的在对于是和与及、，,。？?！!]+|(?:[\s的了吗呢？?。！!,，]|(?<![什怎这那多])么)+$"
)


@dataclass(frozen=True)
class NotFoundPolicy:
    min_coverage: float = 0.3  # share of the content words' weight the best passage carries
    min_coverage_english: float = 0.15  # through the partial Chinese expansion
    # fewer expanded terms: coverage is not judged, and without a place the question is refused
    english_min_terms: int = 2
    min_bm25: float = DEFAULT_MIN_BM25


DEFAULT_NOT_FOUND = NotFoundPolicy()


@dataclass(frozen=True)
class Signals:
    """What the decision reads, gathered once per question (eval sweeps the policy over it)."""

    missing_places: tuple[str, ...]  # named places no item is about
    places: tuple[str, ...]  # named places that have items
    english: bool
    known_terms: tuple[str, ...]  # content words the archive uses
    unknown_terms: tuple[str, ...]  # content words it never uses
    coverage: float | None  # best fitting passage's share of the known terms' weight
    fitting: int  # retrieved passages the question fits (its places' items)
    # (coverage, date status, year of its event or bulletin, or the bulletin's estimated year)
    # of each fitting passage, when a year was asked
    dated: tuple[tuple[float, str, int | None], ...]
    span: str | None  # the asked time as the user reads it: "2021年"
    span_years: tuple[int, int] | None  # its first and last year
    topic: str  # the question's topic, for the reason shown
    bm25_top_score: float
    dense_top_cosine: float

    def to_dict(self) -> dict:
        return {
            "missing_places": list(self.missing_places),
            "known_terms": list(self.known_terms),
            "unknown_terms": list(self.unknown_terms),
            "coverage": None if self.coverage is None else round(self.coverage, 4),
            "fitting_passages": self.fitting,
            "bm25_top_score": self.bm25_top_score,
            "dense_top_cosine": self.dense_top_cosine,
        }


@dataclass(frozen=True)
class Verdict:
    found: bool
    reason: str | None = None  # Chinese, for the user, when not found
    rule: str = "found"  # which step decided: place, unknown_words, no_words, topic, time
    missing_places: tuple[str, ...] = ()
    signals: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "found": self.found,
            "reason": self.reason,
            "rule": self.rule,
            "missing_places": list(self.missing_places),
            **self.signals,
        }


def min_bm25_from_env() -> float:
    raw = os.environ.get(MIN_BM25_ENV)
    if not raw:
        return DEFAULT_MIN_BM25
    try:
        return float(raw)
    except ValueError:
        raise ValueError(
            f"{MIN_BM25_ENV}={raw!r} is not a number (e.g. {DEFAULT_MIN_BM25})"
        ) from None


def decide(s: Signals, policy: NotFoundPolicy = DEFAULT_NOT_FOUND) -> Verdict:
    """The decision of the module docstring, from gathered signals."""

    def no(rule: str, reason: str) -> Verdict:
        return Verdict(False, reason, rule, s.missing_places, s.to_dict())

    if s.missing_places and not s.places:
        return no("place", f"已收录的简报中没有关于{'、'.join(s.missing_places)}的条目")
    if not s.known_terms:
        # the asker's own words ("乐山2023年开会讲了什么"): an item of that place and time answers
        place_and_time = s.places and any(status == "in" for _, status, _ in s.dated)
        if s.unknown_terms and not s.english and not place_and_time:
            words = "、".join(s.unknown_terms[:3])
            return no("unknown_words", f"已收录的简报中没有出现“{words}”等内容")
        if not s.places and s.bm25_top_score < policy.min_bm25:
            return no("no_words", "没有与问题用词足够接近的段落")
        return Verdict(True, rule="found", signals=s.to_dict())
    floor = policy.min_coverage
    if s.english:
        floor = policy.min_coverage_english
        if len(s.known_terms) < policy.english_min_terms:
            if not s.places:  # one translated word and no place: too little to go on
                return no("no_words", "没有与问题用词足够接近的段落")
            floor = 0.0
    if s.fitting == 0 or (s.coverage or 0.0) < floor:
        if s.places:
            where = "、".join(s.places)
            return no("topic", f"档案中有{where}的条目，但没有关于“{s.topic}”的内容")
        return no("topic", f"已收录的简报中没有关于“{s.topic}”的内容")
    if s.span is not None:
        carrying = [d for d in s.dated if d[0] >= max(floor, 0.5 * (s.coverage or 0.0))]
        if carrying and all(_outside(status, year, s) for _, status, year in carrying):
            return no("time", f"档案中有关于“{s.topic}”的条目，但不在{s.span}")
    return Verdict(True, rule="found", signals=s.to_dict())


def _outside(status: str, year: int | None, s: Signals) -> bool:
    """Dated in another year than the asked one. A passage of unknown date counts as outside
    when its bulletin's estimated year is (and its text names no asked time: that would make
    it "mentioned")."""
    if status not in ("out", "unknown") or not s.span_years:
        return False
    if year is None:
        return status == "out"
    return not s.span_years[0] <= year <= s.span_years[1]


def gather(engine: SearchEngine, asked: UnderstoodSearch) -> Signals:
    """The signals of one understood search (its top passages, k as asked)."""
    u = asked.understanding
    query = u.search_text() if u else asked.query
    top = engine.top_scores(query)
    named = list(u.places) if u else []
    missing = tuple(p.place.name for p in named if not _has_items(engine, p.place))
    present = tuple(p.place.name for p in named if p.place.name not in missing)
    terms = content_terms(engine, u, asked.query)
    known = terms.known
    fitting = [h for h in asked.hits if not named or _fits(h)]
    years = _years(u.dates) if u and u.dates and _YEAR_ASKED.search(u.dates.surface) else None
    coverages = [_coverage(h, known) for h in fitting]
    return Signals(
        missing_places=missing,
        places=present,
        english=written_in_english(asked.query),
        known_terms=tuple(known),
        unknown_terms=terms.unknown,
        coverage=max(coverages, default=None) if known else None,
        fitting=len(fitting),
        dated=tuple(
            (c, h.why["understanding"]["date"], _year(h, years)) for c, h in zip(coverages, fitting)
        )
        if years
        else (),
        span=u.dates.label if years else None,
        span_years=years,
        topic=_topic_label(u.topic if u else asked.query) or "、".join(known),
        bm25_top_score=top["bm25_top_score"],
        dense_top_cosine=top["dense_top_cosine"],
    )


def judge_asked(
    engine: SearchEngine, asked: UnderstoodSearch, policy: NotFoundPolicy | None = None
) -> Verdict:
    return decide(gather(engine, asked), policy or policy_from_env())


def judge_question(engine: SearchEngine, query: str, min_bm25: float | None = None) -> Verdict:
    """Found or not found for a question over this index (min_bm25: None reads
    $BULLETIN_MIN_BM25)."""
    policy = policy_from_env()
    if min_bm25 is not None:
        policy = replace(policy, min_bm25=min_bm25)
    return decide(gather(engine, ask(engine, query)), policy)


def policy_from_env() -> NotFoundPolicy:
    return replace(DEFAULT_NOT_FOUND, min_bm25=min_bm25_from_env())


def _has_items(engine: SearchEngine, place) -> bool:
    """Some indexed item is about the place: a city through any of its items (its counties'
    too), a county only through its own."""
    if place.level == "city":
        return place.name in engine.indexed_cities
    return place.label in engine.indexed_places


def _years(dates) -> tuple[int, int] | None:
    low, high = dates.date_from, dates.date_to
    if not low and not high:
        return None
    return int((low or "0000")[:4]), int((high or "9999")[:4])


def _year(hit: Hit, asked: tuple[int, int]) -> int | None:
    """The year of its first known date; for a passage of unknown date, an asked year its text
    names ("2023年3月…同年12月"), else its bulletin's estimated year."""
    meta = hit.chunk.meta
    if meta.known_dates:
        return int(meta.known_dates[0][:4])
    named = [int(y) for y in _YEAR_IN_TEXT.findall(hit.chunk.text)]
    inside = [y for y in named if asked[0] <= y <= asked[1]]
    if inside:
        return inside[0]
    estimate = meta.date_estimate or ""
    return int(estimate[:4]) if estimate[:4].isdigit() else None


def _fits(hit: Hit) -> bool:
    return hit.why.get("understanding", {}).get("place", 0) > 0


def _coverage(hit: Hit, weights: dict[str, float]) -> float:
    """Share of the weight whose words occur in the passage or its title (as substrings: the
    segmenter may cut a word differently in the question and the text)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    text = re.sub(r"\s+", "", hit.chunk.text + (hit.chunk.meta.title or ""))
    return sum(w for t, w in weights.items() if t in text) / total


def _topic_label(topic: str) -> str:
    """The topic as the reason quotes it: "的史志阅览室建设情况" -> "史志阅览室建设情况"."""
    previous = None
    while previous != topic:
        previous, topic = topic, _TOPIC_EDGES.sub("", topic)
    return topic[:30]
