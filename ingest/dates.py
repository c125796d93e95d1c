"""Dates in bulletin text: the issue date and the events an item reports.

Items write event dates as month and day ("10月10日"); the year is the
bulletin's, except that a January bulletin may report December of the year
before. Without a bulletin year, only fully written dates are trusted.
"""

from __future__ import annotations

import re
from datetime import date

_FULL = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
# "10月10日", "7月10日至15日", "7月17日、20日"; not the tail of a full date.
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})日((?:[至到、和—-]\d{1,2}日)*)")
_EXTRA_DAY = re.compile(r"(\d{1,2})日")
_YEAR = re.compile(r"(?<!\d)(\d{4})年")


def iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None  # "2月30日" and the like: not a date we can show


def parse_cn_date(text: str) -> str | None:
    """The first full date "2022年11月2日" in text, as ISO."""
    match = _FULL.search(text)
    return iso(int(match[1]), int(match[2]), int(match[3])) if match else None


def event_dates(text: str, bulletin_date: str | None) -> list[str]:
    """ISO dates mentioned in text, in order of appearance, without repeats."""
    found: list[tuple[int, str]] = []
    for match in _FULL.finditer(text):
        value = iso(int(match[1]), int(match[2]), int(match[3]))
        if value:
            found.append((match.start(), value))
    if bulletin_date:
        issued = date.fromisoformat(bulletin_date)
        for match in _MONTH_DAY.finditer(text):
            month = int(match[1])
            # Months well after the issue month are last year's (a January
            # bulletin reporting December); a month or two ahead is a plan.
            year = issued.year if month <= issued.month + 2 else issued.year - 1
            days = [int(match[2])] + [int(d) for d in _EXTRA_DAY.findall(match[3])]
            for day in days:
                value = iso(year, month, day)
                if value:
                    found.append((match.start(), value))
    seen: set[str] = set()
    ordered = []
    for _, value in sorted(found):
        if value not in seen:
            seen.add(value)
            ordered.append(value)
    return ordered


def latest_year_reported(text: str) -> int | None:
    """The latest year the text reports as past or present (targets like "到2027年" skipped)."""
    years = [
        int(match[1])
        for match in _YEAR.finditer(text)
        if text[max(0, match.start() - 1) : match.start()] not in ("到", "至")
    ]
    return max(years) if years else None
