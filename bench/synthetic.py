"""Synthetic bulletins for scale benchmarks (never for quality claims).

Copy n of a sample bulletin keeps its layout byte-width for byte-width, so
cleaning and parsing see the same structure, but differs in what a reader
would notice first:
- years are shifted (the same shift for the whole copy), months and days
  redrawn (1-digit stays 1-digit, so the PDF line widths do not change);
- other numbers get a per-copy digit substitution (the repeated URL line
  stays repeated);
- the 16 two-character city names (成都, 达州, …) are permuted;
- common two-character verbs are swapped for a near-synonym at random
  (推进/推动, 加强/强化, …), so even a passage with no number or place differs.
The header date and places sit in every chunk's embed text, so copies share
no embeddings and are not duplicates: the year shift and the first month and
day in the text (the header's, when there is one) are counted out from the
copy number, so copies of one sample never share a header date (up to 378
copies per sample). Measured on 500 copies: 4998 of 5000 chunk texts distinct
(two passages of the undated sample repeat once).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from ingest.paths import SAMPLE_BULLETINS

SAMPLES = sorted(SAMPLE_BULLETINS.glob("*.txt"))
CITIES = [
    "成都",
    "自贡",
    "泸州",
    "德阳",
    "绵阳",
    "广元",
    "遂宁",
    "内江",
    "乐山",
    "南充",
    "眉山",
    "宜宾",
    "广安",
    "达州",
    "雅安",
    "巴中",
]
SYNONYMS = [
    ("推进", "推动"),
    ("加强", "强化"),
    ("开展", "组织"),
    ("提升", "提高"),
    ("召开", "举行"),
    ("要求", "强调"),
    ("积极", "主动"),
    ("做好", "抓好"),
    ("各级", "各地"),
]
_SYNONYM_OF = {a: b for pair in SYNONYMS for a, b in (pair, pair[::-1])}
_TOKEN = re.compile(
    r"(?P<year>(?:19|20)\d\d)(?=\s*[年卷])"  # 2022年, 2022卷
    r"|(?P<month>\d{1,2})(?=\s*月)"
    r"|(?P<day>\d{1,2})(?=\s*日)"
    r"|(?P<number>\d+)"
    r"|(?P<city>" + "|".join(CITIES) + ")"
    r"|(?P<word>" + "|".join(_SYNONYM_OF) + ")"
)


SHIFTS = range(-10, 4)


def _span(kind: str, value: str) -> tuple[int, int]:
    """Values a month or day may take without changing its number of digits."""
    if len(value) == 1:
        return 1, 9
    return (10, 12) if kind == "month" else (10, 28)


def vary(text: str, copy: int, seed: int = 0) -> str:
    """A synthetic variant of a bulletin's raw text; the same (copy, seed) gives the same text."""
    rng = random.Random(f"{seed}:{copy}")
    k = copy // len(SAMPLES)  # copies of one sample are numbered k = 0, 1, 2, …
    shift = SHIFTS[k % len(SHIFTS)]
    # The header's month and day are counted out from k: (k mod 14, k//14 mod months,
    # k//42 mod days) differ for every k < 14 * 3 * 9 = 378, whatever the digit counts.
    header = {"month": k // len(SHIFTS), "day": k // (len(SHIFTS) * 3)}
    digits = list("0123456789")
    rng.shuffle(digits)
    cities = CITIES[:]
    rng.shuffle(cities)
    city_of = dict(zip(CITIES, cities))

    def redraw(match: re.Match) -> str:
        kind, value = match.lastgroup, match.group()
        if kind == "year":
            return str(int(value) + shift)
        if kind in ("month", "day"):
            low, high = _span(kind, value)
            counted = header.pop(kind, None)  # the first month and day are the header's
            return str(
                low + counted % (high - low + 1) if counted is not None else rng.randint(low, high)
            )
        if kind == "number":
            return value.translate(str.maketrans("0123456789", "".join(digits)))
        if kind == "city":
            return city_of[value]
        return _SYNONYM_OF[value] if rng.random() < 0.5 else value

    return _TOKEN.sub(redraw, text)


def make_corpus(folder: Path, count: int, seed: int = 0, start: int = 0) -> list[Path]:
    """Write `count` synthetic bulletins (copies start..start+count-1, cycling over the samples)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for copy in range(start, start + count):
        template = SAMPLES[copy % len(SAMPLES)]
        path = folder / f"syn_{copy:04d}_{template.stem[:3]}.txt"
        path.write_text(vary(template.read_text(encoding="utf-8"), copy, seed), encoding="utf-8")
        paths.append(path)
    return paths
