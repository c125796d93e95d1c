"""Time expressions in Chinese or English text -> date ranges. Pure: no index, no model.

    "2023年下半年"  -> 2023-07-01 … 2023-12-31
    "去年"          -> the year before the anchor's year (relative)
    "March 2024"    -> 2024-03-01 … 2024-03-31

Two readers: a question's time (answer/dates.py labels it and names the anchor that relative
words were read against), and the absolute times a passage's text names ("2022年10月召开…",
"总结2023年工作"), extracted once at ingest (`absolute_times`) and stored with the index.

Precision first: a question that is not read as a date loses nothing (its words still go to
the retrievers), while a wrong date range hides the right answer. So yearbook volumes
("2022年卷", "2022年鉴", "成都年鉴（2023）"), targets ("到2027年"), vague phrases ("近年来",
"近几年") and month/day without a year ("10月10日") are not read as dates.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
}
_EN_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_EN_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
}


@dataclass(frozen=True)
class TimeSpan:
    """One time expression found in a text."""

    date_from: str | None  # ISO, inclusive; None = open
    date_to: str | None  # ISO, inclusive; None = open
    surface: str  # the words, e.g. "2023年下半年", "去年", "last year"
    start: int  # span of `surface` in the (normalised) text
    end: int
    relative: bool = False  # read against the anchor


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# ---- normalising -------------------------------------------------------------------------

_FULLWIDTH = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)} | {"－": "-", "～": "~", "–": "—", "―": "—"}
)
_CN_YEAR = re.compile(r"[〇零○一二三四五六七八九]{4}(?=年)")
_CN_MONTH = re.compile(r"(?<=年)(十[一二]?|[一二三四五六七八九])(?=月)")
_SPACED = re.compile(r"(?<=\d)\s+(?=[年月日])|(?<=[年月])\s+(?=\d)")


def normalise(text: str) -> str:
    """Full-width digits, Chinese-numeral years and months, "2023 年 7 月" -> "2023年7月"."""
    text = text.translate(_FULLWIDTH)
    text = _CN_YEAR.sub(lambda m: "".join(str(_CN_DIGITS[c]) for c in m.group()), text)
    text = _CN_MONTH.sub(lambda m: str(_cn_number(m.group())), text)
    return _SPACED.sub("", text)


def _cn_number(text: str) -> int:
    """1-99 in Chinese numerals or digits: 七 -> 7, 十二 -> 12, 两 -> 2, 12 -> 12."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


# The letters that case-insensitive rules match to an ASCII one besides its own cases ("ſept"
# is matched as "sept"): folded to it before a matched word is looked up.
_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _fold(word: str) -> str:
    return word.translate(_TO_ASCII).lower()


def _number(word: str) -> int:
    word = _fold(word)
    if word.isdigit():
        return int(word)
    if word in _EN_NUMBERS:
        return _EN_NUMBERS[word]
    return _cn_number(word)


# ---- patterns ----------------------------------------------------------------------------
# Each pattern yields (from, to, relative). Matches are collected from all patterns and the
# leftmost-longest non-overlapping ones are kept, so "2023年7月" wins over its "2023年".

_Y = r"((?:19|20)\d{2})"
_M = r"(1[0-2]|0?[1-9])"
_D = r"(3[01]|[12]\d|0?[1-9])"
_DASH = r"\s*(?:-|—|~|至|到)\s*"
# 年 followed by 卷/鉴 is a yearbook volume ("2022年卷", "2022年鉴"), not a time.
_YEAR_CN = _Y + r"\s*年(?![卷鉴])"
_NOT_DIGIT_BEFORE = r"(?<![\d.])"
_CN_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_QUARTER = r"(?:第)?([一二三四1-4])季度"
_EN_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_EN_NUM = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a)"


def year_bounds(y: int) -> tuple[date, date]:
    return date(y, 1, 1), date(y, 12, 31)


def month_bounds(y: int, m: int) -> tuple[date, date]:
    return date(y, m, 1), month_end(y, m)


def _half(y: int, second: bool) -> tuple[date, date]:
    return (date(y, 7, 1), date(y, 12, 31)) if second else (date(y, 1, 1), date(y, 6, 30))


def _quarter(y: int, q: int) -> tuple[date, date]:
    return date(y, 3 * q - 2, 1), month_end(y, 3 * q)


def _minus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _minus_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    y, m = divmod(total, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def _day(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


# Relative year words; "前年" not after 年 ("年前年后" is "before and after New Year").
_REL_YEAR_CN = r"(今年|本年度?|去年|上一?年度?|(?<!年)前年|大前年|明年)"
_REL_YEAR_OFFSET = {
    "今年": 0,
    "本年": 0,
    "本年度": 0,
    "去年": -1,
    "上年": -1,
    "上年度": -1,
    "上一年": -1,
    "上一年度": -1,
    "前年": -2,
    "大前年": -3,
    "明年": 1,
}


_EN_REL_YEAR = {"this year": 0, "last year": -1, "next year": 1, "the year before last": -2}


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    low: date | None
    high: date | None
    relative: bool
    is_range: bool = False  # "2020—2022年": a leading 从 does not open its end


# ---- the rules ---------------------------------------------------------------------------
# A rule is (name, pattern, handler). A handler turns a match and the anchor into (low, high,
# relative), or None to reject the match; only relative times read the anchor. Every pattern
# is compiled case-insensitive. Rules named in _RANGED read a range ("2020—2022年"), which a
# leading 从 does not open.
_RANGED = {"years", "month_range", "month_span", "day_range"}


def _rel_year(word: str | None, anchor: date) -> int:
    """The year a relative year word (今年, 去年, ...) names; no word: the anchor's year."""
    return anchor.year + _REL_YEAR_OFFSET[word] if word else anchor.year


def _years(m, anchor):
    low, high = int(m[1]), int(m[2])
    return (year_bounds(low)[0], year_bounds(high)[1], False) if low <= high else None


def _month_span(m, anchor):
    low, high = month_bounds(int(m[1]), int(m[2]))[0], month_bounds(int(m[3]), int(m[4]))[1]
    return (low, high, False) if low <= high else None


def _month_range(m, anchor):
    y, low, high = int(m[1]), int(m[2]), int(m[3])
    return (month_bounds(y, low)[0], month_bounds(y, high)[1], False) if low <= high else None


def _day_range(m, anchor):
    low, high = _day(m[1], m[2], m[3]), _day(m[1], m[2], m[4])
    return (low, high, False) if low and high and low <= high else None


def _one_day(y: str, mo: str, d: str):
    day = _day(y, mo, d)
    return (day, day, False) if day else None


def _rel_month(m, anchor):
    month = _cn_number(m[2])
    return (*month_bounds(_rel_year(m[1], anchor), month), True) if 1 <= month <= 12 else None


def _recent_years(n: int, anchor: date):
    return (_minus_years(anchor, n), None, True) if 1 <= n <= 30 else None


def _recent_months(n: int, anchor: date):
    return (_minus_months(anchor, n), None, True) if 1 <= n <= 36 else None


def _calendar_month(offset: int, anchor: date):
    first = _minus_months(anchor.replace(day=1), offset)
    return (*month_bounds(first.year, first.month), True)


def _en_month(name: str) -> int:
    return _EN_MONTHS[_fold(name[:3])]


def _bare_year(m, anchor):
    if re.search(r"yearbook\s*$", m.string[: m.start()], re.IGNORECASE):
        return None  # "Yearbook 2022": a volume
    return (*year_bounds(int(m[1])), False)


def _en_rel_half(m, anchor):
    year = anchor.year - (_fold(m[2]) == "last")
    return (*_half(year, _EN_ORDINALS[_fold(m[1])] == 2), True)


def _en_rel_quarter(m, anchor):
    year = anchor.year - (bool(m[2]) and _fold(m[2]) == "last")
    return (*_quarter(year, _EN_ORDINALS[_fold(m[1])]), True)


_ND = _NOT_DIGIT_BEFORE
_CHINESE_ABSOLUTE = [
    # longest forms first for readability: the longest match wins anyway
    ("years", _ND + _Y + r"\s*年?" + _DASH + _Y + r"\s*年(?![卷鉴])", _years),
    (
        "month_span",
        _ND + _Y + r"年" + _M + r"月" + _DASH + _Y + r"年" + _M + r"月(?:份)?",
        _month_span,
    ),
    ("month_range", _ND + _Y + r"年" + _M + r"月?" + _DASH + _M + r"月(?:份)?", _month_range),
    ("day_range", _ND + _Y + r"年" + _M + r"月" + _D + r"日?" + _DASH + _D + r"日", _day_range),
    (
        "day",
        _ND + _Y + r"年" + _M + r"月" + _D + r"[日号]",
        lambda m, a: _one_day(m[1], m[2], m[3]),
    ),
    (
        "month",
        _ND + _Y + r"年" + _M + r"月(?:份)?",
        lambda m, a: (*month_bounds(int(m[1]), int(m[2])), False),
    ),
    (
        "half",
        _ND + _Y + r"年度?的?(上|下)半年",
        lambda m, a: (*_half(int(m[1]), m[2] == "下"), False),
    ),
    (
        "quarter",
        _ND + _Y + r"年度?的?" + _QUARTER,
        lambda m, a: (*_quarter(int(m[1]), _cn_number(m[2])), False),
    ),
    ("year", _ND + _YEAR_CN + r"(?:度)?", lambda m, a: (*year_bounds(int(m[1])), False)),
    (
        "iso_day",
        _ND + r"(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)",
        lambda m, a: _one_day(m[1], m[2], m[3]),
    ),
    (
        "iso_month",
        _ND + _Y + r"-(1[0-2]|0[1-9])(?![\d-])",
        lambda m, a: (*month_bounds(int(m[1]), int(m[2])), False),
    ),
]
_CHINESE_RELATIVE = [
    (
        "rel_month",
        _REL_YEAR_CN + r"的?(\d{1,2}|十[一二]?|[一二三四五六七八九])月(?:份)?",
        _rel_month,
    ),
    (
        "rel_half",
        r"(?:" + _REL_YEAR_CN + r"的?)?(?<!每)(上|下)半年",
        lambda m, a: (*_half(_rel_year(m[1], a), m[2] == "下"), True),
    ),
    (
        "rel_quarter",
        r"(?:" + _REL_YEAR_CN + r"的?)?(?<![每一二三四])" + _QUARTER,
        lambda m, a: (*_quarter(_rel_year(m[1], a), _cn_number(m[2])), True),
    ),
    ("rel_year", _REL_YEAR_CN, lambda m, a: (*year_bounds(_rel_year(m[1], a)), True)),
    (
        "recent_years",
        r"(?:最近|近|过去的?|这)" + _CN_NUM + r"年(?:来|以来|内|中|间)?",
        lambda m, a: _recent_years(_number(m[1]), a),
    ),
    (
        "recent_months",
        r"(?:最近|近|过去的?)(?:(半年)|" + _CN_NUM + r"个多?月)(?:来|以来|内)?",
        lambda m, a: _recent_months(6 if m[1] else _number(m[2]), a),
    ),
    (
        "this_month",
        r"(本月|这个月|上个?月)",
        lambda m, a: _calendar_month(0 if m[1] in ("本月", "这个月") else 1, a),
    ),
]
_ENGLISH = [
    (
        "years",
        r"\b(?:from\s+|between\s+)?" + _Y + r"\s*(?:-|–|—|to|and|through)\s*" + _Y + r"\b",
        _years,
    ),
    (
        "day",
        r"\b" + _EN_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+" + _Y + r"\b",
        lambda m, a: _one_day(m[3], str(_en_month(m[1])), m[2]),
    ),
    (
        "day",
        r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _EN_MONTH + r",?\s+" + _Y + r"\b",
        lambda m, a: _one_day(m[3], str(_en_month(m[2])), m[1]),
    ),
    (
        "month",
        r"\b" + _EN_MONTH + r",?\s+(?:of\s+)?" + _Y + r"\b",
        lambda m, a: (*month_bounds(int(m[2]), _en_month(m[1])), False),
    ),
    (
        "half",
        r"\b(?:the\s+)?(first|second|1st|2nd)\s+half\s+(?:of\s+)?" + _Y + r"\b",
        lambda m, a: (*_half(int(m[2]), _EN_ORDINALS[_fold(m[1])] == 2), False),
    ),
    ("half", r"\bH([12])\s*" + _Y + r"\b", lambda m, a: (*_half(int(m[2]), m[1] == "2"), False)),
    (
        "quarter",
        r"\b(?:the\s+)?(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\s+(?:of\s+)?"
        + _Y
        + r"\b",
        lambda m, a: (*_quarter(int(m[2]), _EN_ORDINALS[_fold(m[1])]), False),
    ),
    (
        "quarter",
        r"\bQ([1-4])\s*" + _Y + r"\b|\b" + _Y + r"\s*Q([1-4])\b",
        lambda m, a: (*_quarter(int(m[2] or m[3]), int(m[1] or m[4])), False),
    ),
    (
        "rel_half",
        r"\b(?:the\s+)?(first|second|1st|2nd)\s+half\s+of\s+(this|last)\s+year\b",
        _en_rel_half,
    ),
    (
        "rel_quarter",
        r"\b(?:the\s+)?(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?:\s+of\s+(this|last)\s+year)?\b",
        _en_rel_quarter,
    ),
    (
        "rel_year",
        r"\b(the year before last|this year|last year|next year)\b",
        lambda m, a: (*year_bounds(a.year + _EN_REL_YEAR[_fold(m[1])]), True),
    ),
    (
        "recent_years",
        r"\b(?:in\s+|over\s+|during\s+)?(?:the\s+)?(?:past|last|recent)\s+"
        + _EN_NUM
        + r"\s+years\b",
        lambda m, a: _recent_years(_number(m[1]), a),
    ),
    (
        "recent_years",
        r"\b(?:in\s+|over\s+|during\s+)?the\s+past\s+year\b",
        lambda m, a: _recent_years(1, a),
    ),
    (
        "recent_months",
        r"\b(?:in\s+|over\s+|during\s+)?(?:the\s+)?(?:past|last|recent)\s+"
        r"(?:(half a year|six months)|" + _EN_NUM + r"\s+months)\b",
        lambda m, a: _recent_months(6 if m[1] else _number(m[2]), a),
    ),
    (
        "this_month",
        r"\b(this month|last month)\b",
        lambda m, a: _calendar_month(0 if _fold(m[1]) == "this month" else 1, a),
    ),
    (
        "year",
        r"\b(?:in|during|for|of|year)\s+" + _Y + r"\b(?!\s*(?:volume|vol\b|edition|yearbook))",
        _bare_year,
    ),
    # a bare year: "达州 2022 会议", "2020?";
    # not "(2023)", "2022卷", "2022 yearbook", "2000 people"
    (
        "year",
        r"(?<![\w(（.\-])"
        + _Y
        + r"(?![\w)）.\-])(?!\s*(?!onwards?\b|and after\b|or later\b)[A-Za-z])",
        _bare_year,
    ),
]
# A rule whose words a text lacks cannot match it, and most passages lack them: the rules that
# need one of these are skipped for a text without it. Every English rule needs a Latin letter
# but those matching digits alone ("2020-2022", a bare "2022"); _LATIN is case-insensitive like
# the rules, so it finds "ſ" and "K" too, which their letters match.
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_QUARTER_WORD = re.compile("季度")
_HALF_WORD = re.compile("半年")
_CHINESE_NEEDS = {
    "half": _HALF_WORD,
    "rel_half": _HALF_WORD,
    "quarter": _QUARTER_WORD,
    "rel_quarter": _QUARTER_WORD,
}
_DIGITS_ONLY_EN = {"years", "year"}


def _rule(name: str, pattern: str, handler, english: bool):
    """(regex, handler, is_range, the word it needs or None)"""
    if english:
        needs = None if name in _DIGITS_ONLY_EN else _LATIN
    else:
        needs = _CHINESE_NEEDS.get(name)
    return re.compile(pattern, re.IGNORECASE), handler, name in _RANGED, needs


_RULES = [_rule(*rule, english=False) for rule in _CHINESE_ABSOLUTE + _CHINESE_RELATIVE] + [
    _rule(*rule, english=True) for rule in _ENGLISH
]


_PREFIX_FROM = re.compile(r"(?:自从|自|从|since\s+|from\s+)$", re.IGNORECASE)
_SUFFIX = re.compile(r"(?:以来|至今|起|开始|以后|之后|以前|之前)")
_EN_SUFFIX_OPEN = re.compile(r"\s+(?:onwards?|and after|or later)\b", re.IGNORECASE)
_EN_PREFIX = re.compile(r"\b(after|before|until|till|by)\s+$", re.IGNORECASE)
# "到2027年" is a target, "截至2023年底" an as-of date: neither asks about that time.
_TARGET_PREFIX = re.compile(r"(?:到|至|截至|截止|截止到)$")


def find_times(text: str, anchor: date) -> list[TimeSpan]:
    """Every time expression in `text` (already `normalise`d), left to right, without overlaps;
    relative words ("去年") are read against `anchor`."""
    candidates: list[_Found] = []
    absent = {word for word in (_LATIN, _QUARTER_WORD, _HALF_WORD) if not word.search(text)}
    for regex, handler, is_range, needs in _RULES:
        if needs in absent:
            continue
        for m in regex.finditer(text):
            got = handler(m, anchor)
            if got is not None:
                candidates.append(_Found(m.start(), m.end(), *got, is_range))
    chosen: list[_Found] = []
    for found in sorted(candidates, key=lambda f: (f.start, -(f.end - f.start))):
        if chosen and found.start < chosen[-1].end:
            continue  # leftmost-longest: "2023年7月" over its "2023年"
        chosen.append(found)
    out = []
    for found in chosen:
        found = _with_modifiers(text, found)
        if found is None:
            continue
        out.append(
            TimeSpan(
                found.low.isoformat() if found.low else None,
                found.high.isoformat() if found.high else None,
                text[found.start : found.end].strip(),
                found.start,
                found.end,
                found.relative,
            )
        )
    return out


# Every rule that yields an absolute time matches four digits (a year, or ISO's "2022-"), and
# relative matches are dropped: a text without four digits names no absolute time.
_FOUR_DIGITS = re.compile(r"\d{4}")
# Any anchor: absolute times do not read it (relative ones, which do, are dropped).
_ANY_ANCHOR = date(2000, 1, 1)


def absolute_times(text: str) -> tuple[tuple[str | None, str | None], ...]:
    """The absolute times a passage's text names (years, months, days; not volumes, targets or
    relative words), as (from, to) ISO pairs in text order, None for an open end."""
    text = normalise(text)
    if not _FOUR_DIGITS.search(text):
        return ()  # the common case at ingest, skipped without running every rule
    return tuple((t.date_from, t.date_to) for t in find_times(text, _ANY_ANCHOR) if not t.relative)


def _with_modifiers(text: str, f: _Found) -> _Found | None:
    """自…以来 / …至今 / …以前 / since / before / after around a match; targets (到2027年)
    dropped."""
    before = text[: f.start]
    if _TARGET_PREFIX.search(before):
        return None
    prefix = _PREFIX_FROM.search(before)
    start = f.start - len(prefix.group()) if prefix else f.start
    suffix = _SUFFIX.match(text, f.end)
    if suffix:
        word = suffix.group()
        if word in ("以前", "之前"):
            return _Found(
                start, suffix.end(), None, f.low - timedelta(days=1) if f.low else None, f.relative
            )
        if word in ("以后", "之后"):
            return _Found(
                start,
                suffix.end(),
                f.high + timedelta(days=1) if f.high else None,
                None,
                f.relative,
            )
        return _Found(start, suffix.end(), f.low, None, f.relative)  # 以来 / 至今 / 起 / 开始
    if prefix:
        # 自2022年, since 2022
        return _Found(start, f.end, f.low, f.high if f.is_range else None, f.relative)
    en_prefix = _EN_PREFIX.search(before)
    if en_prefix:
        word, start = _fold(en_prefix.group(1)), en_prefix.start()
        if word == "after":
            return _Found(
                start, f.end, f.high + timedelta(days=1) if f.high else None, None, f.relative
            )
        if word == "before":
            return _Found(
                start, f.end, None, f.low - timedelta(days=1) if f.low else None, f.relative
            )
        if word in ("until", "till"):
            return _Found(start, f.end, None, f.high, f.relative)
        return None  # "by 2027": a target
    open_end = _EN_SUFFIX_OPEN.match(text, f.end)
    if open_end:
        return _Found(f.start, open_end.end(), f.low, None, f.relative)
    return f
