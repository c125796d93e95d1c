"""Precedent lists: every matching item, grouped by 市州, ordered by date, with citations.

    6个市州：成都、泸州、德阳、遂宁、资阳、阿坝
    成都  2022-10-21  《四川省地方志工作简报》2022年11月2日 【市州动态】 “成都、泸州…”（综合…信息）
    …

One entry per report, not per chunk: a combined item ("综合成都市、泸州市…信息") holds one
report per place and staff cite "the 达州 item", while a long report split into several chunks
is still one precedent. Pure functions over scored hits; answer/ask.py picks the hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

from answer.citation import house_citation
from index.retrieval import Hit
from ingest.model import ChunkMeta
from ingest.places import Gazetteer, Place

PROVINCE = "省级"
UNPLACED = "地点不详"
RELATED = "相关但不计入"  # the group of entries that only mention the topic
_COMBINED = re.compile(r"^综合(.*?)(?:地方志部门|地方志办|地方志)?信息$")


@dataclass(frozen=True)
class PrecedentEntry:
    key: str  # "{item_id}#{report_index}"
    group: str  # city full name, PROVINCE or UNPLACED
    place: str  # where it happened: "达州市", "达州市 › 大竹县", "省地方志办"
    # event date (the first inside the asked range), else the bulletin's; None when unknown
    date: str | None
    score: float  # best chunk score
    text: str  # the matching passage(s) of the report, in reading order
    result: dict  # the best chunk in the search contract (index.engine.result_dict)
    chunk_ids: tuple[str, ...]
    # "in" the asked range, "unknown" date, or "any" when no range was asked
    date_status: str = "in"
    # the sentence of `text` that shows the asked action was done (start, end): the quote;
    # None when the entry only mentions the topic (it is then listed as related, not counted)
    quote: tuple[int, int] | None = None
    group_name: str = ""  # the group as listed: "达州", "省级"

    @property
    def quote_text(self) -> str | None:
        return self.text[self.quote[0] : self.quote[1]] if self.quote else None

    @property
    def citation(self) -> str:
        return house_citation(self.result)

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "group": self.group,
            "place": self.place,
            "date": self.date,
            "score": round(self.score, 6),
            "date_status": self.date_status,
            "title": self.result.get("title"),
            "section": self.result.get("section"),
            "source_org": self.result.get("source_org"),
            "bulletin_date": self.result.get("date"),
            "date_estimate": self.result.get("date_estimate"),
            "citation": self.citation,
            "text": self.text,
            "chunk_ids": list(self.chunk_ids),
            "doc_id": self.result.get("doc_id"),
            "quote": self.quote_text,
        }


@dataclass(frozen=True)
class PrecedentGroup:
    city: str | None  # full name; None for the province level or an unknown place
    name: str  # as listed: "达州", "省级", "地点不详"
    entries: tuple[PrecedentEntry, ...]
    counties: tuple[str, ...] = ()  # short names when every entry is a county's: ("大竹",)

    @property
    def listed(self) -> str:
        return f"{self.name}（{'、'.join(self.counties)}）" if self.counties else self.name

    def to_dict(self) -> dict:
        return {
            "city": self.city,
            "name": self.name,
            "counties": list(self.counties),
            "count": len(self.entries),
            "entries": [e.to_dict() for e in self.entries],
        }


@dataclass(frozen=True)
class PrecedentList:
    query: str
    groups: tuple[PrecedentGroup, ...]
    threshold: float
    understood: str = ""  # the understanding summary the list was made under
    notes: tuple[str, ...] = field(default=())
    # entries that mention the topic but show no sentence doing the asked action: listed
    # apart ("相关但不计入"), outside the count
    related: tuple[PrecedentEntry, ...] = field(default=())

    @property
    def entries(self) -> list[PrecedentEntry]:
        return [e for g in self.groups for e in g.entries]

    @property
    def count(self) -> int:
        return sum(len(g.entries) for g in self.groups)

    @property
    def summary(self) -> str:
        """ "6个市州：成都、泸州、德阳、遂宁、资阳、阿坝", plus province-level and unplaced
        counts."""
        cities = [g for g in self.groups if g.city]
        parts = []
        if cities:
            parts.append(f"{len(cities)}个市州：" + "、".join(g.listed for g in cities))
        for g in self.groups:
            if not g.city:
                parts.append(f"{g.name}{len(g.entries)}条")
        if not parts:
            return "没有条目写明做了此事" if self.related else "没有找到相关条目"
        line = "；".join(parts)
        return line if self.count == len(cities) else f"{line}（共{self.count}条）"

    def to_dict(self) -> dict:
        return {
            "summary": self.summary,
            "count": self.count,
            "threshold": self.threshold,
            "understood": self.understood,
            "groups": [g.to_dict() for g in self.groups],
            "notes": list(self.notes),
            "related": [e.to_dict() for e in self.related],
            "related_summary": self.related_summary,
        }

    @property
    def related_summary(self) -> str:
        """ "相关但不计入：巴中、达州" (the places of the related entries), or ""."""
        if not self.related:
            return ""
        counted = {g.name for g in self.groups}
        names = [e.group_name for e in self.related if e.group_name not in counted]
        extra = len(self.related) - len(names)
        listed = "、".join(dict.fromkeys(names))
        if extra:  # more items of places already counted above
            listed = f"{listed}{'，' if listed else ''}另有已列市州的{extra}条"
        return f"相关但不计入：{listed}"


def report_key(hit: Hit) -> str:
    meta = hit.chunk.meta
    return f"{meta.item_id or hit.chunk.doc_id}#{meta.report_index or 0}"


def report_place(meta: ChunkMeta, gazetteer: Gazetteer) -> Place | str | None:
    """Whose report this is: the office named for it in the source line, else the first place.

    A combined item's source line lists one office per report, in order ("综合省地方志办、乐山市、
    广安市、雅安市信息": report 0 is the province's). Returns a Place, PROVINCE, or None."""
    org = meta.source_org or ""
    combined = _COMBINED.match(org) if meta.combined else None
    if combined:
        offices = [o for o in re.split(r"[、，,]", combined.group(1)) if o]
        index = meta.report_index or 0
        org = offices[index] if index < len(offices) else ""
    if org:
        found = gazetteer.find(org)
        if found:
            counties = [m.place for m in found if m.place.level == "county"]
            place = (counties or [m.place for m in found])[-1]
            if not meta.cities or place.city in meta.cities:
                return place
        elif org.startswith(("省", "四川省")):
            return PROVINCE
    labels = list(meta.places)
    counties = [label for label in labels if "›" in label]
    for label in counties + labels:  # the most specific place the item names
        place = gazetteer.resolve(label)
        if place is not None:
            return place
    return None


def build_precedent_list(
    query: str,
    hits: list[Hit],
    result_of: Callable[[Hit, int], dict],
    gazetteer: Gazetteer,
    threshold: float,
    text_of: Callable[[list[Hit]], str] | None = None,
    date_status: Callable[[Hit], str] | None = None,
    entry_date: Callable[[Hit], str | None] | None = None,
    understood: str = "",
    level: str | None = None,
    carrying: Callable[[str, str], tuple[int, int] | None] | None = None,
    mentions: Callable[[str], bool] | None = None,
) -> PrecedentList:
    """Group hits scoring at least `threshold` into one entry per report, grouped by city.

    `result_of(hit, rank)` gives the search-contract dict (for citations); `text_of(hits)` the
    shown text of a report's matching chunks; `date_status(hit)` "in" / "unknown" / "any";
    `entry_date(hit)` the date to sort and show. `level` "county" keeps counties' reports only
    ("哪些县领导…"), "city" leaves out the province's own ("哪些市州…"), "city_own" the
    counties' too ("哪些市州的市级领导…"). `carrying(text, title)`: the span of the sentence
    showing the asked action (answer/actions.py); entries without one go to `related` when
    `mentions(title + text)` says they are about the topic, else nowhere."""
    kept = [h for h in hits if h.score >= threshold]
    by_report: dict[str, list[Hit]] = {}
    for hit in kept:
        by_report.setdefault(report_key(hit), []).append(hit)
    groups: dict[str, list[PrecedentEntry]] = {}
    related: list[PrecedentEntry] = []
    for key, report_hits in by_report.items():
        best = max(report_hits, key=lambda h: h.score)
        in_order = sorted(report_hits, key=lambda h: h.chunk.start)
        place = report_place(best.chunk.meta, gazetteer)
        text = text_of(in_order) if text_of else "\n".join(h.chunk.text for h in in_order)
        entry = PrecedentEntry(
            key=key,
            group="",
            place="",
            date=entry_date(best) if entry_date else best.chunk.meta.first_date,
            score=best.score,
            text=text,
            result=result_of(best, 0),
            chunk_ids=tuple(h.chunk.chunk_id for h in in_order),
            date_status=date_status(best) if date_status else "any",
        )
        quote = carrying(text, best.chunk.meta.title or "") if carrying else None
        if carrying is not None and quote is None:
            title = best.chunk.meta.title or ""
            if _fits_level(place, level) and (mentions is None or mentions(title + text)):
                related.append(_placed(entry, place, best, gazetteer))
            continue
        entry = replace(entry, quote=quote)
        targets = [place] if _fits_level(place, level) else []
        if quote and not targets:  # a higher level's report naming who did it
            targets = _named_in(text[quote[0] : quote[1]], place, level, gazetteer)
        for n, target in enumerate(targets):
            placed = _placed(entry, target, best, gazetteer)
            placed = replace(placed, key=f"{key}@{n}") if len(targets) > 1 else placed
            groups.setdefault(placed.group, []).append(placed)
    related.sort(key=lambda e: -e.score)
    return PrecedentList(
        query,
        _ordered_groups(groups, gazetteer),
        threshold,
        understood,
        related=tuple(related),
    )


def _fits_level(place: Place | str | None, level: str | None) -> bool:
    """Does a report of this place answer a list at this level (see build_precedent_list)?"""
    county = isinstance(place, Place) and place.level == "county"
    if level == "county":
        return county
    if level in ("city", "city_own") and place == PROVINCE:
        return False
    return not (level == "city_own" and county)


def _named_in(
    quote: str, place: Place | str | None, level: str | None, gazetteer: Gazetteer
) -> list[Place]:
    """The places of the asked level a quote names below its report's place: the counties a
    city's report names ("绵竹市、什邡市、广汉市史志部门作交流发言"), the cities (or their counties'
    cities) a province report names ("《成都年鉴（2023）》…入选")."""
    named = gazetteer.places_in(quote)
    if level == "county" and isinstance(place, Place) and place.level == "city":
        return [p for p in named if p.level == "county" and p.city == place.name]
    if place == PROVINCE and level in ("city", "city_own"):
        cities = [
            gazetteer.resolve(p.city) if p.level == "county" and level == "city" else p
            for p in named
        ]
        return list(dict.fromkeys(c for c in cities if c is not None and c.level == "city"))
    return []


def _placed(
    entry: PrecedentEntry, place: Place | str | None, best: Hit, gazetteer: Gazetteer
) -> PrecedentEntry:
    """The entry filed under a place: its group (city, PROVINCE or UNPLACED) and label."""
    if isinstance(place, Place):
        group, where = place.city, place.label
    elif place == PROVINCE:
        group, where = PROVINCE, best.chunk.meta.source_org or PROVINCE
    else:
        group, where = UNPLACED, UNPLACED
    return replace(entry, group=group, place=where, group_name=_short(group, gazetteer))


def _short(group: str, gazetteer: Gazetteer) -> str:
    """ "达州", or "省级" / "地点不详" as they are."""
    if group in (PROVINCE, UNPLACED):
        return group
    city = gazetteer.resolve(group)
    return gazetteer.short_name(city) if city else group


def _ordered_groups(
    groups: dict[str, list[PrecedentEntry]], gazetteer: Gazetteer
) -> tuple[PrecedentGroup, ...]:
    """Each group's entries by date; the province first, then cities in official code order,
    then the unplaced."""
    ordered = []
    for group, entries in groups.items():
        entries.sort(key=lambda e: (e.date is None, e.date or "", -e.score))
        if group in (PROVINCE, UNPLACED):
            ordered.append(
                (0 if group == PROVINCE else 2, "", PrecedentGroup(None, group, tuple(entries)))
            )
            continue
        city = gazetteer.resolve(group)
        counties = _counties_listed(entries, gazetteer)
        ordered.append(
            (
                1,
                city.code if city else group,
                PrecedentGroup(
                    group, gazetteer.short_name(city) if city else group, tuple(entries), counties
                ),
            )
        )
    # province, then cities in official code order, then unplaced
    ordered.sort(key=lambda row: (row[0], row[1]))
    return tuple(g for _, _, g in ordered)


def _counties_listed(entries: list[PrecedentEntry], gazetteer: Gazetteer) -> tuple[str, ...]:
    """Short county names when every entry of a city is a county's ("达州（大竹）")."""
    names = []
    for entry in entries:
        if "›" not in entry.place:
            return ()
        place = gazetteer.resolve(entry.place)
        names.append(gazetteer.short_name(place) if place else entry.place)
    return tuple(dict.fromkeys(names))
