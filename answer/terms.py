"""The content words of a question, weighted by how rare they are in the archive.

Both the "not found" decision (answer/relevance.py) and precedent lists (answer/actions.py)
read a question through these: its topic (without the places, time and list words
answer/understand.py took out), cut by the index's own segmenter, without question words
(什么, 哪些, 情况…) and without the names of the places asked. English questions are read
through their Chinese expansion (index/expand.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.sentences import scorer_for
from answer.understand import Understanding
from index.engine import SearchEngine
from index.expand import expand_query

QUESTION_WORDS = frozenset(
    "什么 哪些 哪个 哪里 哪 怎么 怎样 怎么样 如何 多少 几 几个 几篇 几部 几点 吗 呢 么 "
    "有没有 有 没有 是 是否 的 了 在 情况 进展 进度 做了 做 为什么 谁 何时 时候 哪天 "
    "哪年 是什么 有何 哪位 哪几 哪几个 叫 名字 什么样 怎么回事 回事 多少次 多少个 一下 "
    "请问 相关 举措 措施 做法 采取".split()
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_OR_LATIN = re.compile(r"[\u4e00-\u9fff]|^[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Terms:
    known: dict[str, float]  # words the archive uses -> IDF
    unknown: tuple[str, ...]  # words it never uses ("回锅肉", or a paraphrase like "决定")


def content_terms(engine: SearchEngine, u: Understanding | None, query: str) -> Terms:
    scorer = scorer_for(engine)
    topic = u.topic if u is not None and u.topic.strip() else query
    places = list(u.places) if u is not None else []
    place_words = {w for p in places for w in (p.place.name, p.surface)} | {
        engine.gazetteer.short_name(p.place) for p in places
    }
    # In a Chinese question a Latin word is a term too ("GDP"); in an English one it is the
    # language, and only the Chinese expansion counts.
    wanted = _CJK if written_in_english(query) else _CJK_OR_LATIN
    words = [
        t
        for t in dict.fromkeys(scorer.tokenize(expand_query(topic, engine.gazetteer)))
        if t not in QUESTION_WORDS and wanted.search(t) and not any(t in w for w in place_words)
    ]
    known = {t: scorer.idf(t) for t in words if scorer.df.get(t, 0) > 0}
    return Terms(known, tuple(_as_written(t, query) for t in words if t not in known))


def written_in_english(query: str) -> bool:
    """No Chinese character at all: the question is read through its expansion."""
    return not _CJK.search(query)


def _as_written(token: str, query: str) -> str:
    """A lower-cased Latin token as the question wrote it ("gdp" -> "GDP")."""
    found = re.search(re.escape(token), query, re.IGNORECASE)
    return found.group() if found else token
