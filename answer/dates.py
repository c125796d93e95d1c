"""A question's time expressions -> the date range it asks about, labelled for the user.

    "2023年下半年"  -> 2023-07-01 … 2023-12-31, label "2023年7—12月"
    "去年"          -> the year before the anchor's year,
                       label "去年（2023年，以最新一期简报2024年3月13日为准）"
    "March 2024"    -> 2024-03-01 … 2024-03-31

The expressions are found by ingest/time_expressions.py, which ingest also uses for the times
a passage's text names. Here: relative words (今年/去年/近两年/last year…) are read against an
*anchor* date that the caller chooses (answer/understand.py explains the choice) and the label
always says which anchor; several expressions in one question merge into one range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ingest.time_expressions import find_times, month_bounds, month_end, normalise, year_bounds

__all__ = [
    "NEWEST_BULLETIN",
    "TODAY",
    "DateRange",
    "anchor_phrase",
    "cn_date",
    "find_date_ranges",
    "merge",
    "month_bounds",
    "normalise",
    "span_label",
    "year_bounds",
]

NEWEST_BULLETIN = "newest_bulletin"
TODAY = "today"


@dataclass(frozen=True)
class DateRange:
    date_from: str | None  # ISO, inclusive; None = open
    date_to: str | None  # ISO, inclusive; None = open
    surface: str  # the words of the question, e.g. "2023年下半年", "去年", "last year"
    start: int  # span of `surface` in the (normalised) question
    end: int
    relative: bool = False  # read against the anchor
    anchor: str | None = None  # ISO date that relative words were read against
    anchor_source: str | None = None  # NEWEST_BULLETIN or TODAY

    @property
    def span_label(self) -> str:
        return span_label(self.date_from, self.date_to)

    @property
    def label(self) -> str:
        """What the user sees: "2022年", "2023年7—12月",
        "去年（2023年，以最新一期简报2024年3月13日为准）"."""
        if not self.relative:
            return self.span_label
        return (
            f"{self.surface}（{self.span_label}，{anchor_phrase(self.anchor, self.anchor_source)}）"
        )

    def contains(self, iso: str) -> bool:
        return (self.date_from is None or iso >= self.date_from) and (
            self.date_to is None or iso <= self.date_to
        )

    def to_dict(self) -> dict:
        return {
            "from": self.date_from,
            "to": self.date_to,
            "label": self.label,
            "span_label": self.span_label,
            "surface": self.surface,
            "relative": self.relative,
            "anchor": self.anchor,
            "anchor_source": self.anchor_source,
        }


# ---- labels ------------------------------------------------------------------------------


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def anchor_phrase(anchor: str | None, source: str | None) -> str:
    if not anchor:
        return "无基准日期"
    when = cn_date(date.fromisoformat(anchor))
    return f"以今天{when}为准" if source == TODAY else f"以最新一期简报{when}为准"


def span_label(date_from: str | None, date_to: str | None) -> str:
    """A range as staff write it: 2022年, 2020—2022年, 2023年7月, 2023年7—12月, 2022年以来."""
    low = date.fromisoformat(date_from) if date_from else None
    high = date.fromisoformat(date_to) if date_to else None
    if low and high:
        if low == high:
            return cn_date(low)
        if (low.month, low.day, high.month, high.day) == (1, 1, 12, 31):
            return f"{low.year}年" if low.year == high.year else f"{low.year}—{high.year}年"
        if low.day == 1 and high == month_end(high.year, high.month):
            if low.year != high.year:
                return f"{low.year}年{low.month}月—{high.year}年{high.month}月"
            if low.month == high.month:
                return f"{low.year}年{low.month}月"
            return f"{low.year}年{low.month}—{high.month}月"
        return f"{cn_date(low)}—{cn_date(high)}"
    if low:
        return f"{_coarse(low)}以来"
    if high:
        return f"{_coarse(high + timedelta(days=1))}以前"
    return "不限"


def _coarse(day: date) -> str:
    if (day.month, day.day) == (1, 1):
        return f"{day.year}年"
    if day.day == 1:
        return f"{day.year}年{day.month}月"
    return cn_date(day)


def find_date_ranges(
    text: str, anchor: date, anchor_source: str = NEWEST_BULLETIN
) -> list[DateRange]:
    """Every time expression in `text` (already `normalise`d), left to right, without overlaps;
    a relative one records the anchor it was read against."""
    return [
        DateRange(
            t.date_from,
            t.date_to,
            t.surface,
            t.start,
            t.end,
            t.relative,
            anchor.isoformat() if t.relative else None,
            anchor_source if t.relative else None,
        )
        for t in find_times(text, anchor)
    ]


def merge(ranges: list[DateRange]) -> DateRange | None:
    """Several expressions in one question ("2020年和2022年"): the range covering them all."""
    if not ranges:
        return None
    if len(ranges) == 1:
        return ranges[0]
    lows, highs = [r.date_from for r in ranges], [r.date_to for r in ranges]
    relative = [r for r in ranges if r.relative]
    return DateRange(
        None if None in lows else min(lows),
        None if None in highs else max(highs),
        "、".join(r.surface for r in ranges),
        ranges[0].start,
        ranges[-1].end,
        bool(relative),
        relative[0].anchor if relative else None,
        relative[0].anchor_source if relative else None,
    )
