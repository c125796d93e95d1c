"""The chat's replies against eval/questions/replies.jsonl: what staff read, not the ranking.

Each question goes through the web chat's own `Assistant.ask` (with the previous question for
a follow-up) and its reply is judged:
- answerable (kinds answer, topic, follow_up): found, every `must` group in the reply text, no
  `must_not` string and no sentence quoted from another place's item when the question names
  a place (off-topic);
- precedent: the places in the count line against the exact set that did the thing
  (precision and recall per question, micro over all);
- no_answer: the reply says "not found" (per `why`: place absent, topic absent for the place,
  wrong time, out of domain, junk).
Reported per split (dev is what the code was tuned on, test is not) and per kind.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from eval.gold import squeeze
from index.store import read_jsonl

REPLY_QUESTIONS = Path(__file__).resolve().parent / "questions" / "replies.jsonl"
ANSWERABLE_KINDS = ("answer", "topic", "follow_up", "precedent")
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class ReplyQuestion:
    id: str
    split: str
    kind: str
    query: str
    previous: str | None = None
    must: tuple[tuple[str, ...], ...] = ()  # every group in the reply, any string of a group
    must_not: tuple[str, ...] = ()
    why: str | None = None  # no_answer: place_absent, topic_absent_for_place, wrong_time…
    places: tuple[str, ...] = ()  # precedent: short names that did the thing
    level: str | None = None  # precedent: "county" when `places` are counties
    related: tuple[str, ...] = ()  # precedent: places that only mention the topic
    tags: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.kind in ANSWERABLE_KINDS


def load_reply_questions(path: Path = REPLY_QUESTIONS) -> list[ReplyQuestion]:
    return [
        ReplyQuestion(
            id=r["id"],
            split=r["split"],
            kind=r["kind"],
            query=r["query"],
            previous=r.get("previous"),
            must=tuple(tuple(group) for group in r.get("must") or ()),
            must_not=tuple(r.get("must_not") or ()),
            why=r.get("why"),
            places=tuple(r.get("places") or ()),
            level=r.get("level"),
            related=tuple(r.get("related") or ()),
            tags=tuple(r.get("tags") or ()),
        )
        for r in read_jsonl(path)
    ]


def contains(text: str, needle: str) -> bool:
    return squeeze(needle) in squeeze(text)


def other_place_sentences(record: dict) -> list[str]:
    """Reply sentences quoted from a card whose item is about none of the asked places."""
    understood = record.get("understood") or {}
    asked = {p["city"] for p in understood.get("places") or ()}
    if not asked or record.get("precedent"):
        return []
    off = []
    for result in record["results"]:
        cities = set(result.get("cities") or ())
        if result.get("highlights") and cities and not cities & asked:
            text = result.get("passage") or result["text"]
            off += [text[start:end] for start, end in result["highlights"]]
    return off


def listed_places(record: dict, level: str | None) -> list[str]:
    """The places in a precedent reply's count line: short 市州 names, or counties."""
    plist = record.get("precedent")
    if not plist:
        return []
    groups = [g for g in plist["groups"] if g["city"]]
    if level == "county":
        return [county for g in groups for county in g["counties"]]
    return [g["name"] for g in groups]


def judge(q: ReplyQuestion, record: dict) -> dict:
    """One question's verdict, with the reply as the user saw it."""
    reply = record["answer"]
    row = {
        "id": q.id,
        "split": q.split,
        "kind": q.kind,
        "why": q.why,
        "query": q.query,
        "previous": q.previous,
        "rewritten": record["query"] if record["query"] != q.query else None,
        "found": record["found"],
        "reply": reply,
        "not_found_message": record.get("not_found_message"),
        "elapsed_ms": record["elapsed_ms"],
    }
    if not q.answerable:
        row["right"] = not record["found"]
        return row
    if q.kind == "precedent":
        listed = listed_places(record, q.level)
        gold = set(q.places)
        hits = [p for p in listed if p in gold]
        row.update(
            listed=listed,
            missing=sorted(gold - set(listed)),
            extra=[p for p in listed if p not in gold],
            precision=len(hits) / len(listed) if listed else 0.0,
            recall=len(set(hits)) / len(gold) if gold else 1.0,
        )
        row["right"] = record["found"] and not row["missing"] and not row["extra"]
        return row
    missing = [list(group) for group in q.must if not any(contains(reply, s) for s in group)]
    forbidden = [s for s in q.must_not if contains(reply, s)]
    elsewhere = other_place_sentences(record)
    row.update(missing=missing, forbidden=forbidden, other_place=elsewhere)
    row["off_topic"] = bool(forbidden or elsewhere)
    row["right"] = record["found"] and not missing and not row["off_topic"]
    return row


def summarise(rows: list[dict]) -> dict:
    """The reply metrics over some questions (see the module docstring)."""
    answerable = [r for r in rows if r["kind"] in ANSWERABLE_KINDS]
    plain = [r for r in answerable if r["kind"] != "precedent"]
    precedent = [r for r in rows if r["kind"] == "precedent"]
    refused = [r for r in rows if r["kind"] == "no_answer"]
    answered = [r for r in plain if r["found"]]
    listed = sum(len(r["listed"]) for r in precedent)
    right_listed = sum(len(r["listed"]) - len(r["extra"]) for r in precedent)
    gold = sum(len(r["listed"]) - len(r["extra"]) + len(r["missing"]) for r in precedent)
    whys = sorted({r["why"] for r in refused})
    return {
        "questions": len(rows),
        "answered_right": share([r["right"] for r in plain]),
        "off_topic": share([r["off_topic"] for r in answered]),
        "found_when_answerable": share([r["found"] for r in answerable]),
        "not_found_when_unanswerable": share([not r["found"] for r in refused]),
        "not_found_by_why": {
            why: share([not r["found"] for r in refused if r["why"] == why]) for why in whys
        },
        "precedent_precision": round(right_listed / listed, 4) if listed else None,
        "precedent_recall": round(right_listed / gold, 4) if gold else None,
        "precedent_exact": share([r["right"] for r in precedent]),
        "by_kind": {
            kind: share([r["right"] for r in rows if r["kind"] == kind])
            for kind in sorted({r["kind"] for r in rows})
        },
        "reply_ms_p50": round(statistics.median(r["elapsed_ms"] for r in rows), 1)
        if rows
        else None,
    }


def share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def reply_quality(assistant, questions: list[ReplyQuestion]) -> tuple[dict, list[dict]]:
    """Ask every question through the chat (follow-ups after their previous question);
    the summary per split and overall, and one row per question."""
    rows = []
    for q in questions:
        record = assistant.ask(q.query, previous=q.previous)
        rows.append(judge(q, record))
    summary = {"all": summarise(rows)}
    for split in SPLITS:
        summary[split] = summarise([r for r in rows if r["split"] == split])
    return summary, rows


def write_rows(out_dir: Path, rows: list[dict]) -> Path:
    """replies.jsonl in the report folder: every question's reply as the user read it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "replies.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def summary_text(summary: dict) -> str:
    """The printed table: one line per split."""
    keys = (
        ("answered_right", "answered right"),
        ("off_topic", "off-topic"),
        ("found_when_answerable", "found (answerable)"),
        ("not_found_when_unanswerable", "not found (unanswerable)"),
        ("precedent_precision", "precedent P"),
        ("precedent_recall", "precedent R"),
        ("reply_ms_p50", "reply p50 ms"),
    )
    lines = ["| split | n | " + " | ".join(label for _, label in keys) + " |"]
    lines.append("|---" * (len(keys) + 2) + "|")
    for split in ("all", *SPLITS):
        data = summary[split]
        cells = " | ".join(str(data[key]) for key, _ in keys)
        lines.append(f"| {split} | {data['questions']} | {cells} |")
    whys = summary["all"]["not_found_by_why"]
    lines.append("not found, by why: " + ", ".join(f"{k} {v}" for k, v in whys.items()))
    return "\n".join(lines)
