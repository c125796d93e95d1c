"""What a question asks about: places, a time, whether it wants every precedent, and the topic.

    understand("达州2022年在年鉴质量上做了什么", gazetteer, anchor=date(2024, 3, 13))
    -> places 达州市 (with its counties), 2022-01-01…2022-12-31 ("2022年"), precedent False,
       topic "在年鉴质量上做了什么"

Pure: no index, no model. The engine decides what to do with it (answer/ask.py).

Relative time words (今年/去年/近两年/last year) are read against the newest bulletin in the
index, not today's date, because the index is an archive: staff asking "去年各地…" of a
collection whose newest issue is March 2024 mean the year before that issue, and answers must
not change overnight when the calendar turns (the dev-set numbers would drift too). When
the archive is up to date, both anchors give the same year. The label always names the
anchor ("去年（2023年，以最新一期简报2024年3月13日为准）"), so a user who meant the calendar
can see it and drop the time with one click. An index without any dated bulletin falls
back to today, and the label says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from answer.dates import NEWEST_BULLETIN, TODAY, DateRange, find_date_ranges, merge, normalise
from ingest.model import ChunkMeta
from ingest.places import Gazetteer, Place

# Asking for a list over places ("哪些市州…", "各地…", "which cities…"). 哪个/which one asks for one
# place; 哪些单位/部门 usually lists names inside one item, so neither triggers the list.
_PRECEDENT_CN = re.compile(
    # not "学习借鉴哪些地方" (places named inside one item)
    r"(?<!借鉴)(?<!学习)(?<!参观)(?<!考察)(?<![去到赴])"
    r"(?:哪些|哪几个?)(?:市州|市（州）|市\(州\)|地方(?!志)|地区|城市|区县|县区|县市区|县（市、区）|县市|市县|县|市|州|区)"
    r"|(?:全省)?各(?:市州|市（州）|市\(州\)|地方(?!志)|地区|区县|县区|县市区|县（市、区）|县市|地|市|州|县)"
    r"|(?:其他|其它|别的|兄弟)(?:市州|市（州）|地方(?!志)|地区|城市|县区|区县)|先例"
)
_PRECEDENT_EN = re.compile(
    r"\b(?:which|what)\s+(?:other\s+)?(?:cities|prefectures|counties|districts|places|localities|regions)\b"
    r"|\b(?:all|every|each|other)\s+(?:the\s+)?(?:cities|city|prefectures|prefecture|counties|county|places)\b"
    r"|\bwhere else\b|\bprecedents?\b",
    re.IGNORECASE,
)
# The level a list cue asks for: "哪些县…" wants counties' items, "哪些市州…" not the province's.
_COUNTY_LEVEL = re.compile(r"县|区|count|district", re.IGNORECASE)
_CITY_LEVEL = re.compile(r"市|州|cit|prefecture", re.IGNORECASE)
_EDGE_JUNK = re.compile(r"^[\s,，、。.;；:：?？!！的在于]+|[\s,，、。.;；:：?？!！的]+$")


# "遂宁市地方志办公室…", "雅安市地方志编纂中心…", "成都市委党史研究室…": the place's office
# (GLOSSARY: 地方志办 = 地方志工作办公室 = 方志办) says who, like the place: it is not the topic.
# As a topic word it made "遂宁市地方志办公室召开了什么会议" "not found" (the item says 遂宁市召开).
OFFICE = r"(?:(?:地方志|方志|史志)(?:编纂委员会|工作)?(?:办公室|办|编纂中心)|委?党史研究室)"
_OFFICE = re.compile(OFFICE)

# "雅安下面的县", "广元的县", "凉山州各县": the counties of a city, not the city's own office.
_COUNTIES_OF = re.compile(
    r"(?:下面的|下属的?|下辖的?|所辖的?|辖区内?的?|的|各)(?:县（市、区）|县（区）|县市区|区县|县区|县市|县)"
    r"|\s*(?:'s\s+)?counties\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PlacePart:
    place: Place
    surface: str  # as written: "达州", "阿坝州", "Dazhu county"
    # "雅安下面的县": items of the city's counties, not of the city office
    counties_only: bool = False

    @property
    def includes_counties(self) -> bool:
        return self.place.level == "city"

    @property
    def key(self) -> str:
        return f"place:{self.place.name}"

    @property
    def label(self) -> str:
        """ "达州市（含所辖县市区）" for a city, "达州市 › 大竹县" for a county."""
        if self.counties_only:
            return f"{self.place.name}所辖县（市、区）"
        return f"{self.place.name}（含所辖县市区）" if self.includes_counties else self.place.label

    def matches(self, meta: ChunkMeta) -> bool:
        """An item is about this place: a city's items include its counties' and its offices'."""
        if self.counties_only:
            return any(label.startswith(f"{self.place.name} › ") for label in meta.places)
        if self.includes_counties:
            return self.place.name in meta.cities
        return self.place.label in meta.places

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "name": self.place.name,
            "label": self.label,
            "level": self.place.level,
            "city": self.place.city,
            "code": self.place.code,
            "includes_counties": self.includes_counties,
            "counties_only": self.counties_only,
            "surface": self.surface,
        }


@dataclass(frozen=True)
class Part:
    """One understood part the user can see and drop."""

    key: str  # "place:达州市", "date", "precedent"
    kind: str  # "place" | "date" | "precedent"
    label: str  # "地点：达州市（含所辖县市区）"

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "label": self.label}


@dataclass(frozen=True)
class Understanding:
    query: str
    places: tuple[PlacePart, ...] = ()
    dates: DateRange | None = None
    precedent: bool = False
    # the words that asked for a list, or "flag" when asked explicitly
    precedent_cue: str | None = None
    # "county" (哪些县…), "city" (哪些市州…) or None (哪些地方…, 各地…)
    precedent_level: str | None = None
    topic: str = ""  # the question without the place, time and list words
    anchor: str | None = None  # ISO date relative time words are read against
    anchor_source: str = NEWEST_BULLETIN
    dropped: tuple[str, ...] = field(default=())  # part keys the user removed
    # their words in the question, to leave out of the search
    dropped_words: tuple[str, ...] = field(default=())

    def parts(self) -> list[Part]:
        out = [Part(p.key, "place", f"地点：{p.label}") for p in self.places]
        if self.dates:
            out.append(Part("date", "date", f"时间：{self.dates.label}"))
        if self.precedent:
            scope = {"county": "各县（市、区）的", "city": "各市州的"}.get(
                self.precedent_level or "", "全部"
            )
            out.append(Part("precedent", "precedent", f"查先例：列出{scope}相关条目"))
        return out

    @property
    def summary(self) -> str:
        """ "地点：达州市（含所辖县市区）· 时间：2022年", or "" when nothing was understood."""
        return " · ".join(p.label for p in self.parts())

    def empty(self) -> bool:
        return not (self.places or self.dates or self.precedent)

    def without(self, *keys: str) -> "Understanding":
        """Drop parts by key ("place:达州市", "date", "precedent") or kind ("place": every
        place)."""
        wanted = set(keys)
        places = tuple(p for p in self.places if p.key not in wanted and "place" not in wanted)
        dropped = tuple(k for k in keys if k)
        words = [p.surface for p in self.places if p not in places]
        if "date" in wanted and self.dates:
            words += self.dates.surface.split("、")
        if "precedent" in wanted and self.precedent_cue and self.precedent_cue != "flag":
            words.append(self.precedent_cue)
        return replace(
            self,
            places=places,
            dates=None if "date" in wanted else self.dates,
            dropped_words=tuple(dict.fromkeys(self.dropped_words + tuple(words))),
            precedent=False if "precedent" in wanted else self.precedent,
            precedent_cue=None if "precedent" in wanted else self.precedent_cue,
            precedent_level=None if "precedent" in wanted else self.precedent_level,
            dropped=tuple(dict.fromkeys(self.dropped + dropped)),
        )

    def search_text(self, topic_only: bool = False) -> str:
        """What the retrievers read: the question without the words of dropped parts (so that
        dropping 达州 stops favouring 达州), or only its topic."""
        if topic_only and self.topic.strip():
            return self.topic
        if not self.dropped_words:
            return self.query
        text = normalise(self.query)
        for word in self.dropped_words:
            text = text.replace(word, " ")
        return re.sub(r"\s+", " ", text).strip() or self.query

    def with_precedent(self, on: bool = True) -> "Understanding":
        """The explicit switch (UI toggle, CLI --precedent) wins over the wording."""
        return replace(
            self,
            precedent=on,
            precedent_cue=(self.precedent_cue or "flag") if on else None,
            precedent_level=self.precedent_level if on else None,
        )

    def to_dict(self) -> dict:
        return {
            "summary": self.summary,
            "parts": [p.to_dict() for p in self.parts()],
            "places": [p.to_dict() for p in self.places],
            "dates": self.dates.to_dict() if self.dates else None,
            "precedent": self.precedent,
            "precedent_cue": self.precedent_cue,
            "precedent_level": self.precedent_level,
            "topic": self.topic,
            "anchor": self.anchor,
            "anchor_source": self.anchor_source,
            "dropped": list(self.dropped),
        }


def understand(
    query: str, gazetteer: Gazetteer, anchor: date | None = None, anchor_source: str | None = None
) -> Understanding:
    """Read places, a time and list intent out of a question.

    `anchor` is the date relative words are read against (the engine passes the newest
    bulletin's date); without one, today is used and labelled as such."""
    if anchor is None:
        anchor, anchor_source = date.today(), TODAY
    anchor_source = anchor_source or NEWEST_BULLETIN
    text = normalise(query)
    spans: list[tuple[int, int]] = []

    ranges = find_date_ranges(text, anchor, anchor_source)
    spans += [(r.start, r.end) for r in ranges]
    places, place_spans = _place_parts(text, gazetteer, spans)
    spans += place_spans

    # "凉山州各县…" is both a place (its counties) and a list: the cue may overlap a place.
    cue = _PRECEDENT_CN.search(text) or _PRECEDENT_EN.search(text)
    if cue:
        spans.append(cue.span())

    return Understanding(
        query=query,
        places=tuple(places),
        dates=merge(ranges),
        precedent=cue is not None,
        precedent_cue=cue.group() if cue else None,
        precedent_level=_level(cue.group()) if cue else None,
        topic=_residual(text, spans),
        anchor=anchor.isoformat(),
        anchor_source=anchor_source,
    )


def _place_parts(
    text: str, gazetteer: Gazetteer, taken: list[tuple[int, int]]
) -> tuple[list[PlacePart], list[tuple[int, int]]]:
    """Places named in the question, and the spans of every mention, with the place's office
    when it follows (all leave the topic).

    A city named only to qualify its county ("达州市大竹县") is not a part of its own: the
    county is the place asked about. A place named twice is one part. "雅安下面的县" asks
    for the city's counties."""
    mentions = [
        m
        for m in gazetteer.find_in_query(text)
        if not any(s < m.end and m.start < e for s, e in taken)
    ]
    qualified = {m.place.city for m in mentions if m.place.level == "county"}
    parts, spans = [], []
    for m in mentions:
        end = m.end
        counties = _COUNTIES_OF.match(text, m.end) if m.place.level == "city" else None
        if counties:
            end = counties.end()
        office = _OFFICE.match(text, end)
        if office:
            end = office.end()
        spans.append((m.start, end))
        if not (m.place.level == "city" and m.place.name in qualified):
            parts.append(PlacePart(m.place, text[m.start : end], counties_only=bool(counties)))
    unique, seen = [], set()
    for part in parts:  # the first mention's surface
        if part.place not in seen:
            seen.add(part.place)
            unique.append(part)
    return unique, spans


def _level(cue: str) -> str | None:
    if _COUNTY_LEVEL.search(cue):
        return "county"
    return "city" if _CITY_LEVEL.search(cue) else None


def _residual(text: str, spans: list[tuple[int, int]]) -> str:
    keep = list(text)
    for start, end in spans:
        for i in range(start, end):
            keep[i] = " "
    topic = re.sub(r"\s+", " ", "".join(keep)).strip()
    return _EDGE_JUNK.sub("", topic).strip()
