"""The "not found" decision against the questions: a precision/recall table over its floor.

Signals are gathered once per question (answer/relevance.py `gather`, on the same search the
chat runs, follow-ups rewritten first) and the decision is replayed for each coverage floor:
"refused" means the chat says not found. Precision = refused questions that are truly
unanswerable; recall = unanswerable questions refused; "kept" = answerable ones answered.
"""

from __future__ import annotations

from dataclasses import replace

from answer.ask import ask
from answer.relevance import DEFAULT_NOT_FOUND, NotFoundPolicy, Signals, decide, gather
from chat.conversation import follow_up_query
from index.engine import SearchEngine

COVERAGE_SWEEP = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


def collect(
    engine: SearchEngine, questions: list[tuple[str, str | None, bool, str]]
) -> list[tuple[Signals, bool, str]]:
    """(signals, answerable, set name) per (query, previous, answerable, set name)."""
    out = []
    for query, previous, answerable, name in questions:
        query = follow_up_query(query, previous, engine.gazetteer) or query
        out.append((gather(engine, ask(engine, query, 5)), answerable, name))
    return out


def table_rows(
    signals: list[tuple[Signals, bool, str]],
    sweep=COVERAGE_SWEEP,
    policy: NotFoundPolicy = DEFAULT_NOT_FOUND,
) -> list[dict]:
    rows = []
    for floor in sweep:
        tried = replace(policy, min_coverage=floor)
        verdicts = [(not decide(s, tried).found, answerable) for s, answerable, _ in signals]
        refused = [answerable for no, answerable in verdicts if no]
        unanswerable = sum(not a for _, a in verdicts)
        answerable = sum(a for _, a in verdicts)
        true_refusals = sum(not a for a in refused)
        rows.append(
            {
                "min_coverage": floor,
                "default": floor == policy.min_coverage,
                "precision": round(true_refusals / len(refused), 4) if refused else None,
                "recall": round(true_refusals / unanswerable, 4) if unanswerable else None,
                "answerable_kept": round(1 - (len(refused) - true_refusals) / answerable, 4)
                if answerable
                else None,
            }
        )
    return rows


def table_text(rows: list[dict]) -> str:
    lines = [
        "| coverage floor | not-found precision | not-found recall | answerable kept |",
        "|---|---|---|---|",
    ]
    for r in rows:
        mark = " (default)" if r["default"] else ""
        lines.append(
            f"| {r['min_coverage']}{mark} | {r['precision']} | {r['recall']} | "
            f"{r['answerable_kept']} |"
        )
    return "\n".join(lines)
