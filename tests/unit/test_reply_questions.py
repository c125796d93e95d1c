"""Checks for the reply-evaluation question set eval/questions/replies.jsonl.

The file is data (read with the project's JSON Lines reader): these tests read it and the five
bulletins and start no process and load no model. Strings are matched whitespace-insensitively: all
whitespace is removed from the string and from each bulletin before searching (the bulletins
are PDF extractions with line wraps and spaces like `10 月 21 日`). Unlike dev.jsonl, a string
need not be unique: it only has to occur in at least one bulletin. The format is described in
eval/questions/README.md, section "Reply questions (replies.jsonl)".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache

import pytest

from conftest import ROOT
from index.store import read_jsonl

QUESTIONS = ROOT / "eval" / "questions" / "replies.jsonl"
DEV_QUESTIONS = ROOT / "eval" / "questions" / "dev.jsonl"
BULLETINS = ROOT / "data" / "bulletins"
# The gazetteer the app itself loads (ingest/places.py: DEFAULT_PATH).
DIVISIONS = ROOT / "data" / "gazetteer" / "sichuan_divisions.json"

KINDS = ("answer", "topic", "follow_up", "precedent", "no_answer")
SPLITS = {"dev", "test"}
WHYS = ("place_absent", "topic_absent_for_place", "wrong_time", "out_of_domain", "junk")
TAGS = {"english"}
COMMON = {"id", "split", "kind", "query", "note"}
# kind -> (required fields beyond COMMON, optional fields)
FIELDS = {
    "answer": ({"must"}, {"must_not", "tags"}),
    "topic": ({"must"}, {"must_not", "tags"}),
    "follow_up": ({"previous", "must"}, {"must_not", "tags"}),
    "precedent": ({"places", "evidence"}, {"related", "level", "tags"}),
    "no_answer": ({"why"}, {"tags"}),
}
MIN_PER_KIND = {"answer": 30, "topic": 6, "follow_up": 6, "precedent": 8, "no_answer": 20}
MIN_PER_WHY = 4
MUST_LEN = (4, 30)
EVIDENCE_LEN = (8, 40)
MAX_ANSWER_GROUPS = 2

# The bug report's examples stay unseen: no question may be one of them or a close paraphrase.
FORBIDDEN_QUERIES = {
    "达州在年鉴质量方面做了什么决定",
    "泸州的二轮志书出版情况",
    "哪些市州印发了品读季实施方案",
    "哪些市州的年鉴入选了精品年鉴",
}
# Bare topics (also with only a place name in front of them).
FORBIDDEN_TOPICS = {"年鉴质量", "地方志工作会议"}
# A query matching every pattern of one row is too close to a forbidden example.
FORBIDDEN_PATTERNS = [
    (r"4668|省情网.*(浏览|访问|点击)|page ?views?|website.*(views|visits)",),
    (r"宜宾|yibin", r"二轮|second[- ]?round"),
    (r"泸州|luzhou", r"二轮|second[- ]?round"),
    (r"gdp|生产总值",),
    (r"达州|dazhou", r"年鉴质量|yearbook quality", r"决定|decid|decision"),
    (r"哪些|which", r"品读季|reading season", r"方案|plan"),
    (r"哪些|which", r"入选|selected|chosen", r"精品年鉴|quality yearbook|exemplary yearbook"),
]

_WS = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_PUNCT = re.compile(r"[\s\W_]+")
_ID = re.compile(r"r\d{3}")


def _strip_ws(text: str) -> str:
    return _WS.sub("", text)


def _normal(query: str) -> str:
    """Lower case, without whitespace and punctuation: for comparing queries."""
    return _PUNCT.sub("", query).lower()


@cache
def load_questions() -> tuple[dict, ...]:
    return tuple(read_jsonl(QUESTIONS))  # a bad line: JSONDecodeError naming line and column


@cache
def load_corpus() -> tuple[str, ...]:
    files = sorted(BULLETINS.glob("*.txt"))
    assert files, f"no bulletins found in {BULLETINS}"
    return tuple(_strip_ws(p.read_bytes().decode("utf-8")) for p in files)


@cache
def load_place_names() -> dict[str, frozenset[str]]:
    """Short names of the 21 市州 ("city") and of the 183 county-level divisions ("county")."""
    data = json.loads(DIVISIONS.read_text(encoding="utf-8"))
    cities = {c["short"] for c in data["cities"]}
    counties = {k["short"] for c in data["cities"] for k in c["counties"]}
    return {"city": frozenset(cities), "county": frozenset(counties)}


@cache
def _all_chinese_place_forms() -> tuple[str, ...]:
    data = json.loads(DIVISIONS.read_text(encoding="utf-8"))
    forms = set()
    for c in data["cities"]:
        forms |= {c["name"], c["short"], *c.get("aliases", [])}
        for k in c["counties"]:
            forms |= {k["name"], k["short"]}
    return tuple(sorted(forms, key=len, reverse=True))


def _occurs(text: str) -> bool:
    needle = _strip_ws(text)
    return bool(needle) and any(needle in doc for doc in load_corpus())


def _by_kind(kind: str) -> list[dict]:
    return [r for r in load_questions() if r.get("kind") == kind]


def _report(problems: list[str]) -> None:
    assert not problems, "\n" + "\n".join(problems)


# --- ids, splits, kinds, fields ---------------------------------------------------------------


def test_ids_unique_and_sequential() -> None:
    ids = [r.get("id") for r in load_questions()]
    bad = [i for i in ids if not isinstance(i, str) or not _ID.fullmatch(i)]
    assert not bad, f"ids not of the form rNNN: {bad}"
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert not dup, f"duplicate ids: {dup}"
    expected = [f"r{n:03d}" for n in range(1, len(ids) + 1)]
    assert ids == expected, "ids must run r001, r002, ... in file order"


def test_kinds_and_counts() -> None:
    rows = load_questions()
    _report(
        [
            f"{r.get('id')}: invalid kind {r.get('kind')!r}"
            for r in rows
            if r.get("kind") not in KINDS
        ]
    )
    counts = Counter(r.get("kind") for r in rows)
    for kind, minimum in MIN_PER_KIND.items():
        assert counts[kind] >= minimum, f"only {counts[kind]} {kind} questions (want >= {minimum})"


def test_splits_per_kind() -> None:
    problems = [
        f"{r.get('id')}: split {r.get('split')!r} not in {sorted(SPLITS)}"
        for r in load_questions()
        if r.get("split") not in SPLITS
    ]
    for kind in KINDS:
        have = {r.get("split") for r in _by_kind(kind)}
        if not SPLITS <= have:
            problems.append(f"kind {kind}: splits {sorted(have)}, need both dev and test")
    _report(problems)


def test_required_and_known_fields() -> None:
    problems = []
    for r in load_questions():
        qid, kind = r.get("id"), r.get("kind")
        if kind not in FIELDS:
            continue
        required, optional = FIELDS[kind]
        missing = (COMMON | required) - r.keys()
        unknown = r.keys() - COMMON - required - optional
        if missing:
            problems.append(f"{qid}: missing {sorted(missing)}")
        if unknown:
            problems.append(f"{qid}: fields {sorted(unknown)} not used by kind {kind}")
        for key in ("query", "note", "previous"):
            if key in r and not (isinstance(r[key], str) and r[key].strip()):
                problems.append(f"{qid}: {key} must be a non-empty string")
        tags = r.get("tags", [])
        if not isinstance(tags, list) or not set(tags) <= TAGS:
            problems.append(f"{qid}: tags {tags!r} not a list of {sorted(TAGS)}")
    _report(problems)


def test_english_questions_are_english() -> None:
    problems = []
    for r in load_questions():
        if "english" in r.get("tags", []):
            for key in ("query", "previous"):
                if _CJK.search(r.get(key, "")):
                    problems.append(f"{r['id']}: english {key} contains Chinese: {r[key]!r}")
    _report(problems)
    english = Counter(r["kind"] for r in load_questions() if "english" in r.get("tags", []))
    assert english["answer"] >= 8, f"only {english['answer']} english answer questions"
    assert english["precedent"] >= 2, f"only {english['precedent']} english precedent questions"


# --- must / must_not --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["answer", "topic", "follow_up"])
def test_must_groups(kind: str) -> None:
    problems = []
    for r in _by_kind(kind):
        qid, must = r["id"], r.get("must")
        if not (isinstance(must, list) and must):
            problems.append(f"{qid}: must is not a non-empty list of groups")
            continue
        if kind != "topic" and len(must) > MAX_ANSWER_GROUPS:
            problems.append(f"{qid}: {len(must)} must groups (at most {MAX_ANSWER_GROUPS})")
        for group in must:
            if not (isinstance(group, list) and group and all(isinstance(s, str) for s in group)):
                problems.append(f"{qid}: must group {group!r} is not a non-empty list of strings")
                continue
            for alt in group:
                n = len(_strip_ws(alt))
                if not MUST_LEN[0] <= n <= MUST_LEN[1]:
                    problems.append(f"{qid}: must {alt!r} has {n} characters (want {MUST_LEN})")
                if not _occurs(alt):
                    problems.append(f"{qid}: must {alt!r} occurs in no bulletin")
    _report(problems)


def test_must_not_strings() -> None:
    problems = []
    for r in load_questions():
        if "must_not" not in r:
            continue
        qid, must_not = r["id"], r["must_not"]
        if not (isinstance(must_not, list) and must_not):
            problems.append(f"{qid}: must_not is not a non-empty list")
            continue
        alts = [_strip_ws(a) for group in r.get("must", []) for a in group]
        for s in must_not:
            if not (isinstance(s, str) and len(_strip_ws(s)) >= MUST_LEN[0]):
                problems.append(f"{qid}: must_not {s!r} is not a string of >= {MUST_LEN[0]} chars")
                continue
            if not _occurs(s):
                problems.append(f"{qid}: must_not {s!r} occurs in no bulletin")
            clash = [a for a in alts if _strip_ws(s) in a or a in _strip_ws(s)]
            if clash:
                problems.append(f"{qid}: must_not {s!r} overlaps must {clash}")
    _report(problems)


# --- precedent --------------------------------------------------------------------------------


def test_precedent_places_and_evidence() -> None:
    names = load_place_names()
    problems = []
    for r in _by_kind("precedent"):
        qid = r["id"]
        level = r.get("level", "city")
        if level not in names:
            problems.append(f"{qid}: level {level!r} not in {sorted(names)}")
            continue
        places, related = r.get("places"), r.get("related", [])
        evidence = r.get("evidence")
        if not (isinstance(places, list) and places and isinstance(related, list)):
            problems.append(f"{qid}: places must be a non-empty list, related a list")
            continue
        for p in places + related:
            if p not in names[level]:
                problems.append(f"{qid}: {p!r} is not a short {level} name in {DIVISIONS.name}")
        for p, n in Counter(places + related).items():
            if n > 1:
                problems.append(f"{qid}: {p!r} listed {n} times in places/related")
        if not isinstance(evidence, dict) or set(evidence) != set(places):
            problems.append(f"{qid}: evidence keys {sorted(evidence or {})} != places {places}")
            continue
        for p, ev in evidence.items():
            n = len(_strip_ws(ev)) if isinstance(ev, str) else 0
            if not EVIDENCE_LEN[0] <= n <= EVIDENCE_LEN[1]:
                problems.append(f"{qid}: evidence for {p} has {n} characters (want {EVIDENCE_LEN})")
            elif not _occurs(ev):
                problems.append(f"{qid}: evidence for {p} {ev!r} occurs in no bulletin")
    _report(problems)


def test_precedent_mix() -> None:
    rows = _by_kind("precedent")
    with_related = [r["id"] for r in rows if r.get("related")]
    county = [r["id"] for r in rows if r.get("level") == "county"]
    assert len(with_related) >= 3, f"only {with_related} have related places"
    assert county, "no county-level precedent question"


# --- no_answer --------------------------------------------------------------------------------


def test_no_answer_why() -> None:
    rows = _by_kind("no_answer")
    _report(
        [f"{r['id']}: why {r.get('why')!r} not in {WHYS}" for r in rows if r.get("why") not in WHYS]
    )
    counts = Counter(r.get("why") for r in rows)
    for why in WHYS:
        assert counts[why] >= MIN_PER_WHY, f"only {counts[why]} no_answer with why={why}"


def test_place_absent_places_really_absent() -> None:
    """A place_absent question names no place that has an item (checked on Chinese names)."""
    corpus = "".join(load_corpus())
    problems = []
    for r in _by_kind("no_answer"):
        if r.get("why") != "place_absent":
            continue
        query = r["query"]
        for form in _all_chinese_place_forms():
            if form in query:
                query = query.replace(form, "")
                if form in corpus:
                    problems.append(f"{r['id']}: {form!r} does occur in the bulletins")
    _report(problems)


# --- queries ----------------------------------------------------------------------------------


def test_queries_new() -> None:
    dev = set()
    with DEV_QUESTIONS.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                dev.add(_normal(json.loads(line)["query"]))
    problems, seen = [], {}
    for r in load_questions():
        q = _normal(r["query"])
        if q in dev:
            problems.append(f"{r['id']}: query {r['query']!r} is in {DEV_QUESTIONS.name}")
        # a follow-up's query ("那德阳呢") may repeat; its previous + query may not
        key = _normal(r.get("previous", "")) + "|" + q
        if key in seen:
            problems.append(f"{r['id']}: same query as {seen[key]}")
        seen[key] = r["id"]
    _report(problems)


def test_forbidden_examples_absent() -> None:
    forbidden = {_normal(q) for q in FORBIDDEN_QUERIES}
    topics = {_normal(t) for t in FORBIDDEN_TOPICS}
    problems = []
    for r in load_questions():
        for key in ("query", "previous"):
            text = r.get(key)
            if not text:
                continue
            q = _normal(text)
            without_places = q
            for form in _all_chinese_place_forms():
                without_places = without_places.replace(form, "")
            if q in forbidden or without_places in topics:
                problems.append(f"{r['id']}: {key} {text!r} is a forbidden example")
            for row in FORBIDDEN_PATTERNS:
                if all(re.search(p, text, re.IGNORECASE) for p in row):
                    problems.append(f"{r['id']}: {key} {text!r} is close to a forbidden example")
    _report(problems)


def test_topic_queries_are_short() -> None:
    problems = []
    for r in _by_kind("topic"):
        words = r["query"].split()
        if not 1 <= len(words) <= 2 or any(not 2 <= len(w) <= 8 for w in words):
            problems.append(
                f"{r['id']}: topic query {r['query']!r} is not 1-2 keywords of 2-8 chars"
            )
    _report(problems)
