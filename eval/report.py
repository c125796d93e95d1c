"""The evaluation report folder, and comparing two of them.

REPORT/summary.json      metrics per mode (overall, per kind), latency, no-answer analysis, settings
REPORT/questions.jsonl   per question and mode: what came back and whether it was right
REPORT/report.md         the same, for people
REPORT/modes.png         bar chart comparing the modes
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.not_found import table_text
from eval.replies import summary_text
from index.store import read_jsonl

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def best_threshold(answerable: list[float], unanswerable: list[float]) -> dict:
    """The cut on a top-result score that best separates the two groups
    (maximum balanced accuracy: mean of the share of each group on its side)."""
    if not answerable or not unanswerable:
        return {"threshold": None, "balanced_accuracy": None}
    best = (0.0, None)
    for cut in sorted(set(answerable + unanswerable)):
        kept = sum(s >= cut for s in answerable) / len(answerable)
        refused = sum(s < cut for s in unanswerable) / len(unanswerable)
        score = (kept + refused) / 2
        if score > best[0]:
            best = (score, cut)
    return {"threshold": best[1], "balanced_accuracy": round(best[0], 4)}


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (0 ≤ q ≤ 1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def distribution(values: list[float]) -> dict:
    if not values:
        return {}
    return {
        "n": len(values),
        "min": min(values),
        "p10": percentile(values, 0.1),
        "median": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "max": max(values),
    }


def write_report(out_dir: Path, summary: dict, rows: list[dict]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    with open(out_dir / "questions.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out_dir / "report.md").write_text(markdown(summary, rows), encoding="utf-8")
    chart(summary, out_dir / "modes.png")


def markdown(summary: dict, rows: list[dict]) -> str:
    lines = [
        "# Retrieval evaluation",
        "",
        f"Settings: {json.dumps(summary['settings'], ensure_ascii=False)}",
        "",
    ]
    lines += metric_tables(summary)
    if summary.get("precedent"):
        lines += precedent_markdown(summary["precedent"])
    lines += no_answer_markdown(summary)
    if summary.get("replies"):
        lines += replies_markdown(summary["replies"])
    misses = [r for r in rows if r.get("answerable") and r["mrr@10"] == 0]
    if misses:
        lines += ["", "## Not found in the top 10", ""]
        lines += [f"- {r['mode']} · {r['id']} · {r['query']}" for r in misses]
    return "\n".join(lines) + "\n"


def metric_tables(summary: dict) -> list[str]:
    """Each mode's metrics: overall (with latency), by kind of question, by tag."""
    lines = ["| mode | " + " | ".join(METRICS) + " | p50 ms |", "|---" * (len(METRICS) + 2) + "|"]
    for mode, data in summary["modes"].items():
        lines.append(
            f"| {mode} | "
            + " | ".join(f"{data['overall'][m]:.3f}" for m in METRICS)
            + f" | {data['latency_ms_p50']:.1f} |"
        )
    for kind in next(iter(summary["modes"].values()))["by_kind"]:
        lines += [
            "",
            f"## {kind}",
            "",
            "| mode | " + " | ".join(METRICS) + " |",
            "|---" * (len(METRICS) + 1) + "|",
        ]
        for mode, data in summary["modes"].items():
            lines.append(
                f"| {mode} | "
                + " | ".join(f"{data['by_kind'][kind][m]:.3f}" for m in METRICS)
                + " |"
            )
    tags = sorted({t for data in summary["modes"].values() for t in data.get("by_tag", {})})
    for tag in tags:
        lines += [
            "",
            f"## #{tag}",
            "",
            "| mode | " + " | ".join(METRICS) + " | n |",
            "|---" * (len(METRICS) + 2) + "|",
        ]
        for mode, data in summary["modes"].items():
            row = data.get("by_tag", {}).get(tag)
            if row:
                lines.append(
                    f"| {mode} | "
                    + " | ".join(f"{row[m]:.3f}" for m in METRICS)
                    + f" | {row['n']} |"
                )
    return lines


def no_answer_markdown(summary: dict) -> list[str]:
    """Unanswerable questions: the not-found rule, each signal's best threshold, and the web
    chat's replies."""
    lines = ["", "## Unanswerable questions: top-result scores", ""]
    for signal, data in summary["no_answer"].items():
        if signal == "rule":
            lines.append(
                f"- not-found rule (min BM25 {data['min_bm25']}): answerable kept "
                f"{data['answerable_kept']}, "
                f"unanswerable refused {data['unanswerable_refused']}; wrongly refused "
                f"{data['wrongly_refused']}, wrongly answered {data['wrongly_answered']}"
            )
            continue
        lines.append(
            f"- {signal}: answerable {data['answerable']}, unanswerable {data['unanswerable']}, "
            f"best threshold {data['threshold']} (balanced accuracy {data['balanced_accuracy']})"
        )
    if "answers" in summary:
        answers = summary["answers"]
        lines += [
            "",
            "## Web chat replies (extractive)",
            "",
            "- answerable questions whose reply carries gold evidence: "
            f"{answers['answer_has_evidence']} "
            f"({', '.join(f'{k} {v}' for k, v in answers['by_kind'].items())})",
            f"- unanswerable questions given no reply: {answers['unanswerable_no_reply']}",
        ]
    return lines


def replies_markdown(replies: dict) -> list[str]:
    """The reply questions' table (eval/replies.py) and the not-found table (eval/not_found.py)."""
    lines = ["", "## Replies (eval/questions/replies.jsonl; per question: replies.jsonl)", ""]
    lines.append(summary_text(replies))
    if replies.get("not_found_table"):
        lines += ["", "### Not found: precision and recall over the coverage floor", ""]
        lines.append(table_text(replies["not_found_table"]))
    return lines


def precedent_markdown(data: dict) -> list[str]:
    base = data["baseline"]
    lines = [
        "",
        "## Precedent lists",
        "",
        f"{data['questions']} precedent questions, {data['gold']} gold reports; mode "
        f"{data['mode']}, threshold {data['threshold']}.",
        "",
        "| list | completeness | returned | not gold |",
        "|---|---|---|---|",
        f"| precedent list | {data['completeness']:.3f} | {data['returned']} | "
        f"{data['non_gold']} |",
        f"| plain top {base['k']} | {base['completeness']:.3f} | {base['returned']} | "
        f"{base['non_gold']} |",
        "",
        "| threshold | completeness | returned | not gold |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {row['threshold']} | {row['completeness']:.3f} | {row['returned']} | "
        f"{row['non_gold']} |"
        for row in data["sweep"]
    ]
    lines += [
        "",
        "| id | question | found / gold | returned | not gold | summary |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['id']} | {r['query']} | {r['found']}/{r['gold']} | {r['returned']} | "
        f"{r['non_gold']} | {r['summary']} |"
        for r in data["per_question"]
    ]
    intent = data.get("intent")
    if intent:
        lines += [
            "",
            f"List intent read from the wording: {intent['recall']:.3f} of precedent questions "
            f"(missed {intent['missed']}); "
            f"also switched on for {intent['false_positives']}.",
        ]
    return lines


def chart(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    modes = list(summary["modes"])
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        values = [summary["modes"][mode]["overall"][m] for m in METRICS]
        ax.bar([x + i * width for x in range(len(METRICS))], values, width, label=mode)
    ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(METRICS))], METRICS)
    ax.set_ylim(0, 1)
    ax.set_title("Retrieval quality by mode (dev questions)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def compare(old_dir: Path, summary: dict, rows: list[dict]) -> str:
    """Metric differences against an earlier report, and the questions that moved."""
    old_summary = json.loads((old_dir / "summary.json").read_text(encoding="utf-8"))
    old_rows = {(r["mode"], r["id"]): r for r in read_jsonl(old_dir / "questions.jsonl") if r}
    lines = [f"Compared with {old_dir}:", f"{'mode':<8} " + " ".join(f"{m:>10}" for m in METRICS)]
    for mode, data in summary["modes"].items():
        old = old_summary["modes"].get(mode)
        if not old:
            continue
        lines.append(
            f"{mode:<8} "
            + " ".join(f"{data['overall'][m] - old['overall'][m]:>+10.3f}" for m in METRICS)
        )
    better, worse = [], []
    for row in rows:
        old = old_rows.get((row["mode"], row["id"]))
        if not old or not row.get("answerable"):
            continue
        delta = row["mrr@10"] - old["mrr@10"]
        if delta:
            (better if delta > 0 else worse).append(
                (row["mode"], row["id"], old["mrr@10"], row["mrr@10"], row["query"])
            )
    for label, items in (("better", better), ("worse", worse)):
        lines.append(f"\n{label} ({len(items)}):")
        lines += [f"  {m:<7} {qid}  MRR@10 {a:.2f} -> {b:.2f}  {q}" for m, qid, a, b, q in items]
    return "\n".join(lines)
