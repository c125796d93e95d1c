"""Precedent lists against the gold: completeness and noise.

For each precedent question (kind "precedent", or tagged "precedent": English list questions)
every gold evidence string is one gold report. Completeness = share of gold reports that the
precedent list counts; "shown" adds the reports it lists as related (mentioning the topic
without a sentence doing the asked action: this gold is looser than the action test, see
eval/questions/replies.jsonl for strict lists); "not gold" = counted reports holding no gold
evidence. The plain
top 10 of the same retriever is the baseline (what a list question got before precedent mode).
"""

from __future__ import annotations

from dataclasses import replace

from answer.ask import Policy, precedent_list, precedent_pool, understand_for
from answer.precedent import PrecedentList, report_key
from eval.gold import Question, squeeze
from index.engine import SearchEngine

PRECEDENT_SWEEP = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
BASELINE_K = 10


def is_precedent(q: Question) -> bool:
    return q.kind == "precedent" or "precedent" in q.tags


def judge_entries(texts: list[str], evidence: tuple[str, ...]) -> tuple[set[int], int]:
    """Gold reports found, and the number of returned reports holding none."""
    wanted = [squeeze(e) for e in evidence]
    found, non_gold = set(), 0
    for text in texts:
        hit = {i for i, e in enumerate(wanted) if e in squeeze(text)}
        found |= hit
        non_gold += not hit
    return found, non_gold


def precedent_completeness(
    engine: SearchEngine,
    questions: list[Question],
    mode: str,
    policy: Policy,
    sweep=PRECEDENT_SWEEP,
) -> dict:
    asked = [q for q in questions if is_precedent(q) and q.answerable]
    rows, sweep_totals = [], {t: [0, 0, 0] for t in sweep}  # found, returned, non-gold
    base_found = base_returned = base_non_gold = 0
    for q in asked:
        u = understand_for(engine, q.query).with_precedent(True)
        pool = precedent_pool(engine, u, mode, None, policy)
        plist = precedent_list(engine, u, pool, policy)
        found, non_gold = judge_entries([e.text for e in plist.entries], q.evidence)
        shown, _ = judge_entries([e.text for e in (*plist.entries, *plist.related)], q.evidence)
        rows.append({**_question_row(q, plist, found, non_gold), "shown": len(shown)})
        for t in sweep:
            swept = precedent_list(engine, u, pool, replace(policy, precedent_threshold=t))
            f, n = judge_entries([e.text for e in swept.entries], q.evidence)
            sweep_totals[t][0] += len(f)
            sweep_totals[t][1] += swept.count
            sweep_totals[t][2] += n
        f, returned, n = _plain_top(engine, q, mode)
        base_found, base_returned, base_non_gold = (
            base_found + len(f),
            base_returned + returned,
            base_non_gold + n,
        )
    gold = sum(r["gold"] for r in rows)
    share = lambda x: round(x / gold, 4) if gold else 0.0  # noqa: E731
    return {
        "questions": len(rows),
        "gold": gold,
        "threshold": policy.precedent_threshold,
        "mode": mode,
        "completeness": share(sum(r["found"] for r in rows)),
        # counted or listed as related: gold reports the user sees at all
        "completeness_shown": share(sum(r["shown"] for r in rows)),
        "completeness_macro": round(sum(r["found"] / r["gold"] for r in rows) / len(rows), 4)
        if rows
        else 0.0,
        "returned": sum(r["returned"] for r in rows),
        "non_gold": sum(r["non_gold"] for r in rows),
        "non_gold_per_question": round(sum(r["non_gold"] for r in rows) / len(rows), 2)
        if rows
        else 0.0,
        "baseline": {
            "k": BASELINE_K,
            "completeness": share(base_found),
            "returned": base_returned,
            "non_gold": base_non_gold,
        },
        "sweep": [
            {"threshold": t, "completeness": share(v[0]), "returned": v[1], "non_gold": v[2]}
            for t, v in sweep_totals.items()
        ],
        "per_question": rows,
    }


def _question_row(q: Question, plist: PrecedentList, found: set[int], non_gold: int) -> dict:
    return {
        "id": q.id,
        "query": q.query,
        "gold": len(q.evidence),
        "found": len(found),
        "returned": plist.count,
        "non_gold": non_gold,
        "summary": plist.summary,
        "missed": [e for i, e in enumerate(q.evidence) if i not in found],
    }


def _plain_top(engine: SearchEngine, q: Question, mode: str) -> tuple[set[int], int, int]:
    """The baseline: the plain top 10, one entry per report. (gold found, entries, non-gold)"""
    reports: dict[str, list[str]] = {}
    for hit in engine.search(q.query, BASELINE_K, mode):
        reports.setdefault(report_key(hit), []).append(hit.chunk.text)
    f, n = judge_entries(["\n".join(t) for t in reports.values()], q.evidence)
    return f, len(reports), n


def intent_detection(engine: SearchEngine, questions: list[Question]) -> dict:
    """Does the wording alone switch precedent mode on for list questions, and off for the rest?"""
    detected = {q.id: understand_for(engine, q.query).precedent for q in questions}
    listy = [q for q in questions if is_precedent(q)]
    return {
        "recall": round(sum(detected[q.id] for q in listy) / len(listy), 4) if listy else 0.0,
        "missed": [q.id for q in listy if not detected[q.id]],
        "false_positives": [q.id for q in questions if not is_precedent(q) and detected[q.id]],
    }
