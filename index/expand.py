"""Make an English (or pinyin) question findable in Chinese bulletins.

The bulletins are Chinese; the small multilingual embedder links "Dazhou" to
达州 only weakly and BM25 not at all. So before searching, place names found
by the gazetteer ("Dazhou", "Dazhu county") and the office's core terms
("yearbook" -> 年鉴) get their Chinese form appended to the query. A Chinese
question passes through unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.paths import DATA_DIR
from ingest.places import Gazetteer

# Staff vocabulary (GLOSSARY.md) and frequent bulletin words, English -> Chinese.
# Longer phrases first so "local chronicles" wins over "chronicles".
TERMS: dict[str, str] = {
    "local chronicles office": "地方志办",
    "chronicles office": "地方志办",
    "local chronicles": "地方志",
    "local chronicle": "地方志",
    "reading season": "品读季",
    "implementation plan": "实施方案",
    "implementation plans": "实施方案",
    "exemplary yearbook": "精品年鉴",
    "quality yearbook": "精品年鉴",
    "outline review": "篇目审查",
    "party history": "党史",
    "poverty alleviation": "扶贫",
    "reading room": "阅览室",
    "reading rooms": "阅览室",
    "work conference": "工作会议",
    "working meeting": "工作会议",
    "new media": "新媒体",
    "page views": "浏览量",
    "page view": "浏览量",
    "website": "网站 网",
    "wechat": "微信公众号",
    "followers": "粉丝",
    "yearbooks": "年鉴",
    "yearbook": "年鉴",
    "chronicles": "志书",
    "chronicle": "志书",
    "gazetteer": "地方志",
    "quality": "质量",
    "decide": "决定 部署 要求",
    "decided": "决定 部署 要求",
    "decision": "决定",
    "meeting": "会议",
    "meetings": "会议",
    "conference": "会议",
    "instruction": "批示",
    "instructions": "批示",
    "comment": "批示",
    "praised": "肯定 表扬",
    "commended": "表扬",
    "museum": "方志馆",
    "survey": "调研",
    "study tour": "调研",
    "study tours": "调研",
    "research": "调研",
    "visit": "调研",
    "training": "培训",
    "funding": "经费",
    "funds": "经费",
    "notice": "通知",
    "plan": "方案",
    "plans": "方案",
    "township": "乡镇",
    "village": "村",
    "county": "县",
    "city": "市",
    "cities": "市州",
    "prefecture": "州",
    "province": "省",
    "provinces": "省",
    "provincial": "省",
    "review": "审查",
    "award": "奖",
    "awards": "奖",
    "compilation": "编纂",
    "compile": "编纂",
}
# The wider glossary: English forms of the words that occur in at least 3 paragraphs of the
# sample bulletins (data/glossary/README.md); the core TERMS above win a conflict.
GLOSSARY = DATA_DIR / "glossary" / "en_zh.tsv"


def _glossary(path: Path = GLOSSARY) -> dict[str, str]:
    if not path.exists():
        return {}
    rows = path.read_text(encoding="utf-8").splitlines()[1:]  # a header line first
    pairs = (row.split("\t")[:2] for row in rows if row.strip())
    return {english.strip().lower(): chinese.strip() for english, chinese in pairs}


ALL_TERMS: dict[str, str] = {**_glossary(), **TERMS}
_TERM_RE = re.compile(
    r"\b(" + "|".join(re.escape(t) for t in sorted(ALL_TERMS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_LATIN = re.compile(r"[A-Za-z]")


def expand_query(query: str, gazetteer: Gazetteer) -> str:
    """The query plus Chinese forms of the English places and terms in it."""
    if not _LATIN.search(query):
        return query
    extra: list[str] = []
    for mention in gazetteer.find_in_query(query):
        if _LATIN.search(mention.surface):
            extra.append(mention.place.name)
            if mention.place.level == "county":
                extra.append(mention.place.city)
    extra.extend(ALL_TERMS[m.group(1).lower()] for m in _TERM_RE.finditer(query))
    extra = list(dict.fromkeys(extra))
    return f"{query} {' '.join(extra)}" if extra else query
