"""Understanding-aware retrieval: the call behind the web chat and `python -m index.search`.

    answer = ask(engine, "达州2022年在年鉴质量上做了什么", k=5)
    answer.understanding.parts()   # [地点：达州市（含所辖县市区）, 时间：2022年] — each droppable
    answer.hits                    # ranked passages (Hit), best first
    answer.undated                 # passages of unknown date, shown apart (policy "separate")
    answer.precedent               # PrecedentList when the question asks "哪些市州…"
                                   # (or the switch is on)
    ask(engine, query, drop=("date",))          # the user removed the time
    ask(engine, query, precedent=True)          # the UI switch / CLI --precedent

How places and dates act on the ranking is a `Policy`, chosen by measurement (README,
"Place- and date-aware questions"): a *boost* adds a bonus to matching passages and keeps the
rest below them, so an answer whose place is written differently (or whose date is unknown) is
ranked lower, not lost; a *filter* keeps only matching passages. Retrieval scores are min-max
normalised per question (0..1) before bonuses are added, so a bonus of 0.5 is half the spread
between the best and the worst candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from answer.actions import Action, carrying_unit
from answer.dates import NEWEST_BULLETIN, TODAY
from answer.precedent import PrecedentList, build_precedent_list
from answer.terms import content_terms
from answer.understand import OFFICE, Understanding, understand
from index.engine import SearchEngine, result_dict
from index.expand import expand_query
from index.filters import FilterColumns, Filters
from index.retrieval import Hit, Retriever
from ingest.model import ChunkMeta
from ingest.time_expressions import absolute_times


@dataclass(frozen=True)
class Policy:
    place: str = "boost"  # "boost" | "filter" | "off"
    date: str = "boost"  # "boost" | "filter" | "off"
    # unknown-date passages when a time is asked: "lower" (same list) | "separate" (own list)
    undated: str = "lower"
    # what the retrievers read: "query" (the whole question) | "topic" (without place/time/list
    # words)
    text: str = "query"
    place_bonus: float = 0.5
    date_bonus: float = 0.5
    # an unknown date earns this share of the date bonus (between in and out of range)
    undated_share: float = 0.5
    # the text names a time inside the range ("2022年10月召开…") but no event date is in it
    mention_share: float = 1.0
    # a county question: the county's city's other items earn this share of the place bonus
    parent_share: float = 0.5
    # precedent lists keep passages whose retrieval score (0..1) reaches this
    precedent_threshold: float = 0.4
    depth: int = 50  # candidates per retriever
    # candidates per retriever for precedent lists ("every matching item")
    precedent_depth: int = 500
    undated_k: int = 3  # passages in the separate unknown-date list

    def __post_init__(self):
        for name, allowed in (
            ("place", ("boost", "filter", "off")),
            ("date", ("boost", "filter", "off")),
            ("undated", ("lower", "separate")),
            ("text", ("topic", "query")),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"policy {name}={getattr(self, name)!r}; choose one of: {', '.join(allowed)}"
                )

    @classmethod
    def parse(cls, spec: str) -> "Policy":
        """ "place=filter,date=boost,undated=separate" -> Policy (for eval and the CLI)."""
        values: dict[str, Any] = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            key, sep, value = item.partition("=")
            if not sep or key not in cls.__dataclass_fields__:
                raise ValueError(
                    f"bad policy item {item!r}; use key=value with keys: "
                    f"{', '.join(cls.__dataclass_fields__)}"
                )
            kind = type(getattr(cls(), key))
            try:
                values[key] = kind(value)
            except ValueError:
                raise ValueError(f"policy {key}={value!r}: expected {kind.__name__}") from None
        return cls(**values)


DEFAULT_POLICY = Policy()


@dataclass
class UnderstoodSearch:
    query: str
    understanding: Understanding | None  # None when understanding was switched off
    hits: list[Hit]
    undated: list[Hit] = field(default_factory=list)
    precedent: PrecedentList | None = None
    mode: str = "hybrid"
    notes: list[str] = field(default_factory=list)  # e.g. "2022年没有条目，已列出日期不详的条目"

    def ranked(self) -> list[Hit]:
        """Main list then the unknown-date list: the order a reader meets them (used by eval)."""
        return self.hits + self.undated

    def to_dict(self, result_of) -> dict:
        return {
            "understood": self.understanding.to_dict() if self.understanding else None,
            "results": [result_of(h, i) for i, h in enumerate(self.hits, 1)],
            "undated": [result_of(h, i) for i, h in enumerate(self.undated, 1)],
            "precedent": self.precedent.to_dict() if self.precedent else None,
            "notes": self.notes,
        }


def anchor_of(engine: SearchEngine) -> tuple[date, str]:
    """The newest bulletin's date (answer/understand.py says why), else today."""
    newest = engine.newest_bulletin_date
    return (date.fromisoformat(newest), NEWEST_BULLETIN) if newest else (date.today(), TODAY)


def understand_for(engine: SearchEngine, query: str) -> Understanding:
    anchor, source = anchor_of(engine)
    return understand(query, engine.gazetteer, anchor, source)


def ask(
    engine: SearchEngine,
    query: str,
    k: int = 5,
    mode: str = "hybrid",
    filters: Filters | None = None,
    understand: bool = True,
    drop: Sequence[str] = (),
    precedent: bool | None = None,
    policy: Policy | None = None,
) -> UnderstoodSearch:
    """Search with the question's places and time applied (see the module docstring)."""
    if mode not in engine.retrievers:
        raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(engine.retrievers)}")
    policy = policy or DEFAULT_POLICY
    if not query.strip():
        return UnderstoodSearch(query, None, [], mode=mode)
    if not understand:
        hits = engine.search(query, k, mode, filters)
        return UnderstoodSearch(query, None, hits, mode=mode)
    u = understand_for(engine, query).without(*drop)
    if precedent is not None:
        u = u.with_precedent(precedent)
    scoring = _prepare(engine, u, _search_text(engine, u, policy), mode, filters, policy)
    scored = _ranked(scoring, policy, policy.depth)
    answer = UnderstoodSearch(query, u, [], mode=mode)
    main = [
        h
        for h in scored
        if not (u.dates and policy.undated == "separate" and _status(h) == "unknown")
    ]
    answer.hits = _hits(engine, main[:k])
    if u.dates and policy.undated == "separate":
        unknown = [h for h in scored if _status(h) == "unknown"]
        answer.undated = _hits(engine, unknown[: policy.undated_k])
    if u.dates and not any(_status(h) in ("in", "mentioned") for h in answer.hits):
        answer.notes.append(f"{u.dates.span_label}没有匹配的条目；以下为时间不符或日期不详的条目")
    if u.precedent:
        pool = _hits(engine, _ranked(scoring, policy, policy.precedent_depth))
        answer.precedent = precedent_list(engine, u, pool, policy)
    return answer


def precedent_pool(
    engine: SearchEngine,
    u: Understanding,
    mode: str = "hybrid",
    filters: Filters | None = None,
    policy: Policy | None = None,
) -> list[Hit]:
    """Every candidate passage for a precedent list, scored (deeper than a top-k search)."""
    policy = policy or DEFAULT_POLICY
    scoring = _prepare(engine, u, _search_text(engine, u, policy), mode, filters, policy)
    return _hits(engine, _ranked(scoring, policy, policy.precedent_depth))


def _search_text(engine: SearchEngine, u: Understanding, policy: Policy) -> str:
    return expand_query(u.search_text(topic_only=policy.text == "topic"), engine.gazetteer)


def precedent_list(
    engine: SearchEngine, u: Understanding, scored: list[Hit], policy: Policy
) -> PrecedentList:
    """Every passage relevant enough (retrieval score >= threshold) that fits the place and time
    asked."""

    def fits(hit: Hit) -> bool:
        why = hit.why["understanding"]
        return (not u.places or why["place"] > 0) and why["date"] != "out"

    eligible = [replace(h, score=h.why["understanding"]["base"]) for h in scored if fits(h)]
    action = Action.of(
        expand_query(u.topic or u.query, engine.gazetteer), content_terms(engine, u, u.query).known
    )
    level = "city_own" if asks_city_own(u.query) else u.precedent_level
    return build_precedent_list(
        u.query,
        eligible,
        result_dict,
        engine.gazetteer,
        policy.precedent_threshold,
        text_of=lambda hits: report_text(engine, hits),
        date_status=lambda h: _status(h) if u.dates else "any",
        entry_date=lambda h: entry_date(u, h),
        understood=u.summary,
        level=level,
        carrying=carrying_unit(action),
        mentions=action.mentioned_in,
    )


# "哪些市州的市级领导…", "成都市地方志办公室…": the cities' own items, not their counties'.
_CITY_OWN = re.compile(
    rf"市级|市领导|市委书记|市长|[市州]{OFFICE}|\bcity[- ](?:level|leaders?)\b",
    re.IGNORECASE,
)


def asks_city_own(query: str) -> bool:
    """Does the question ask about a city's own body (its office, its leaders), not its
    counties'?"""
    return bool(_CITY_OWN.search(query))


def report_text(engine: SearchEngine, hits: list[Hit]) -> str:
    """The matching chunks of one report as one passage: overlapping chunks merged, gaps marked."""
    # a passage added without a bulletin (eval's BEIR distractors) stands as its own text
    text_clean = engine.stored.bulletins.get(hits[0].chunk.doc_id, {}).get("text_clean")
    if not text_clean:
        return "\n".join(h.chunk.text for h in hits)
    pieces, start, end = [], hits[0].chunk.start, hits[0].chunk.end
    for hit in hits[1:]:
        if hit.chunk.start <= end + 1:
            end = max(end, hit.chunk.end)
        else:
            pieces.append(text_clean[start:end])
            start, end = hit.chunk.start, hit.chunk.end
    pieces.append(text_clean[start:end])
    return "……".join(pieces)


def entry_date(u: Understanding, hit: Hit) -> str | None:
    meta = hit.chunk.meta
    if u.dates:
        inside = [d for d in meta.known_dates if u.dates.contains(d)]
        if inside:
            return inside[0]
    return meta.first_date


# ---- scoring -----------------------------------------------------------------------------


def _status(hit: "Hit | _Ranked") -> str:
    return hit.why["understanding"]["date"]


def date_status(u: Understanding, meta: ChunkMeta, text: str = "") -> str:
    """ "in" / "out" of the asked range, "unknown", "mentioned", or "any" when no time was asked.

    The item's event dates decide, else its bulletin's date. A passage outside (or without)
    those whose text names a time inside the range ("2022年10月召开全省年鉴质量提升工作会",
    "总结2023年工作") is "mentioned": the undated review bulletin reports most of its events
    this way, and a March meeting summing up last year is about last year."""
    if not u.dates:
        return "any"
    known = meta.known_dates
    if any(u.dates.contains(d) for d in known):
        return "in"
    if text and any(_inside(u.dates, low, high) for low, high in text_times(text)):
        return "mentioned"
    return "out" if known else "unknown"


def _inside(asked, low: str | None, high: str | None) -> bool:
    return (
        low is not None
        and high is not None
        and (asked.date_from is None or low >= asked.date_from)
        and (asked.date_to is None or high <= asked.date_to)
    )


@lru_cache(maxsize=200_000)
def text_times(text: str) -> tuple[tuple[str | None, str | None], ...]:
    """Absolute times a passage names (years, months, days; not volumes or targets), cached per
    text: what an index saved with them stores (index/text_dates.py); read from the text for
    one saved without them."""
    return absolute_times(text)


def place_match(u: Understanding, meta: ChunkMeta, parent_share: float) -> float:
    """1 when the item is about an asked place (a city includes its counties), a share when
    a county (or a city's counties) was asked and the item is only the city's, else 0."""
    if not u.places:
        return 0.0
    if any(p.matches(meta) for p in u.places):
        return 1.0
    cities = set(meta.cities)
    if any(
        (not p.includes_counties or p.counties_only) and p.place.city in cities for p in u.places
    ):
        return parent_share
    return 0.0


@dataclass
class _Scoring:
    """One question's candidates, ranked at any depth by the retriever's scores (the query
    is embedded once: the dense retriever keeps it, so a precedent list embeds nothing more)."""

    u: Understanding
    retriever: Retriever
    text: str  # what the retriever reads (the expanded question)
    rows: np.ndarray | None  # the allowed rows (None: every row)
    place_of: dict[int, float]
    date_of: dict[int, str]
    soft: np.ndarray  # rows that earn a bonus: their best `depth` stay below the depth cut


class _Statuses(dict):
    """{row: status}, worked out when first read (ranking reads only the rows it ranks), or for
    many rows in one call (`fill`, before a loop reads them)."""

    def __init__(self, statuses_of: Callable[[np.ndarray], list]):
        super().__init__()
        self._statuses_of = statuses_of

    def fill(self, rows: Iterable[int]) -> None:
        missing = np.fromiter((r for r in rows if r not in self), dtype=np.int64)
        if len(missing):
            self.update(zip(missing.tolist(), self._statuses_of(missing)))

    def __missing__(self, row: int):
        self.fill((row,))
        return dict.__getitem__(self, row)


def _prepare(
    engine: SearchEngine,
    u: Understanding,
    text: str,
    mode: str,
    filters: Filters | None,
    policy: Policy,
) -> _Scoring:
    chunks = engine.stored.chunks
    hard = engine.columns.allowed(filters)
    places = _PlaceRows.of(engine.columns.built, u, len(chunks))
    place_of = _Statuses(lambda rows: [places.value(r, policy.parent_share) for r in rows])
    date_of = _Statuses(_date_status_of(engine, u))
    retriever = engine.retrievers[mode]
    if (policy.place == "filter" and u.places) or (policy.date == "filter" and u.dates):
        # place or time as a filter: every candidate's status decides whether it stays
        keep = (np.arange(len(chunks)) if hard is None else hard).tolist()
        if policy.place == "filter" and u.places:
            keep = [r for r in keep if place_of[r] != 0]
        date_of.fill(keep)  # the kept rows' date statuses in one pass over the columns
        if policy.date == "filter" and u.dates:
            keep = [r for r in keep if date_of[r] != "out"]
        rows = (
            np.array(keep, dtype=np.int64) if hard is not None or len(keep) < len(chunks) else None
        )
        soft = np.array(
            [r for r in keep if _earns_bonus(policy, place_of[r], date_of[r])], dtype=np.int64
        )
        return _Scoring(u, retriever, text, rows, place_of, date_of, soft)
    return _Scoring(
        u, retriever, text, hard, place_of, date_of, _bonus_rows(engine, u, policy, hard, places)
    )


def _earns_bonus(policy: Policy, place: float, when: str) -> bool:
    return (policy.place == "boost" and place > 0) or (policy.date == "boost" and when == "in")


@dataclass(frozen=True)
class _PlaceRows:
    """place_match from the filter columns: the rows about an asked place (1) and the rows only
    its city's (the parent share), as masks over every row, so no passage is read."""

    about: np.ndarray  # bool per row
    city_only: np.ndarray  # bool per row: the city's item where a county was asked (not about)

    @classmethod
    def of(cls, columns: FilterColumns, u: Understanding, size: int) -> "_PlaceRows":
        about, city = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
        for asked in u.places:
            if asked.counties_only:
                about[columns.rows_of_counties(asked.place.name)] = True
            elif asked.includes_counties:
                about[columns.rows_of_city(asked.place.name)] = True
            else:
                about[columns.rows_of_place(asked.place.label)] = True
            if not asked.includes_counties or asked.counties_only:
                city[columns.rows_of_city(asked.place.city)] = True
        return cls(about, city & ~about)

    def value(self, row: int, parent_share: float) -> float:
        return 1.0 if self.about[row] else parent_share if self.city_only[row] else 0.0

    def rows(self, parent_share: float) -> np.ndarray:
        """The rows whose value is above 0."""
        return np.flatnonzero(self.about | self.city_only if parent_share > 0 else self.about)


_DATE_STATUSES = ("unknown", "out", "mentioned", "in")  # by code: a later one wins


def _date_status_of(engine: SearchEngine, u: Understanding) -> Callable[[np.ndarray], list[str]]:
    """date_status of many rows from the filter columns. For the rows whose own dates are
    outside the range (or unknown), whether the text names a time inside: from the times saved
    with the index, else (an index saved without them) read from each text."""
    if not u.dates:
        return lambda rows: ["any"] * len(rows)
    asked, columns, chunks = u.dates, engine.columns.built, engine.stored.chunks
    inside = np.zeros(columns.size, dtype=bool)
    inside[columns.rows_dated_within(asked.date_from, asked.date_to)] = True
    named = columns.text_dates

    def statuses(rows: np.ndarray) -> list[str]:
        codes = columns.dated[rows].astype(np.int8)  # 1 "out", 0 "unknown"
        outside = np.flatnonzero(~inside[rows])
        if named is not None:
            mentioned = outside[named.naming_within(rows[outside], asked.date_from, asked.date_to)]
        else:
            mentioned = [
                i
                for i in outside
                if any(
                    _inside(asked, low, high) for low, high in text_times(chunks[int(rows[i])].text)
                )
            ]
        codes[mentioned] = 2
        codes[inside[rows]] = 3
        return [_DATE_STATUSES[c] for c in codes.tolist()]

    return statuses


def _bonus_rows(
    engine: SearchEngine,
    u: Understanding,
    policy: Policy,
    allowed: np.ndarray | None,
    places: _PlaceRows,
) -> np.ndarray:
    """The rows _earns_bonus picks (place_match > 0, date_status "in"), from the filter columns
    instead of a status per passage: the same rows (tests/unit/test_topk_columns.py)."""
    found = []
    if policy.place == "boost":
        found.append(places.rows(policy.parent_share))
    if policy.date == "boost" and u.dates:
        found.append(engine.columns.built.rows_dated_within(u.dates.date_from, u.dates.date_to))
    rows = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
    return rows if allowed is None else np.intersect1d(rows, allowed, assume_unique=True)


@dataclass(frozen=True)
class _Ranked:
    """A ranked row before its passage is read: a question ranks ~200 rows and shows 5."""

    row: int
    score: float
    why: dict[str, Any]


def _hits(engine: SearchEngine, ranked: list[_Ranked]) -> list[Hit]:
    chunks = engine.stored.chunks
    return [Hit(chunks[r.row], r.score, r.row, r.why) for r in ranked]


def _ranked(scoring: _Scoring, policy: Policy, depth: int) -> list[_Ranked]:
    u = scoring.u
    base = _base_scores(scoring, depth)
    scoring.date_of.fill(base)
    hits = []
    for row, score in base.items():
        place, when = scoring.place_of[row], scoring.date_of[row]
        bonus = 0.0
        if policy.place == "boost":
            bonus += policy.place_bonus * place
        if policy.date == "boost":
            bonus += policy.date_bonus * {
                "in": 1.0,
                "mentioned": policy.mention_share,
                "unknown": policy.undated_share,
            }.get(when, 0.0)
        # With a date filter, unknown dates are kept but ranked after every dated match.
        tier = 1 if policy.date == "filter" and u.dates and when in ("unknown", "mentioned") else 0
        why = {
            "understanding": {
                "base": round(score, 6),
                "place": place,
                "date": when,
                "bonus": round(bonus, 6),
            }
        }
        hits.append((tier, -(score + bonus), row, _Ranked(row, score + bonus, why)))
    hits.sort(key=lambda t: t[:3])
    return [h for *_, h in hits]


def _base_scores(scoring: _Scoring, depth: int) -> dict[int, float]:
    """The retriever's scores (hybrid: fused like the plain search), min-max normalised to 0..1.

    Candidates per retriever: its top `depth` allowed rows, plus its top `depth` of the rows
    that earn a bonus (Retriever.scores' keep), so a boosted passage is not lost below the cut
    and a question naming a big city or a year still ranks at most 2 x depth rows."""
    scores = scoring.retriever.scores(scoring.text, scoring.rows, depth, keep=scoring.soft)
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {row: ((s - low) / span if span > 0 else 1.0) for row, s in scores.items()}
