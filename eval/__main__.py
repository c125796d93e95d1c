"""Measure retrieval quality on the dev questions: python -m eval

Examples:
  python -m eval                         # the default index (data/index), every mode
  python -m eval --tokenizer bigram      # a temporary index with another BM25 tokenizer
  python -m eval --fusion weighted       # hybrid with fixed 0.5/0.5 weights (default: confident)
  python -m eval --chunk-size 350 --chunk-overlap 50
  python -m eval --modes hybrid,hybrid+u  # plain hybrid against hybrid with the question understood
  python -m eval --policy place=filter,date=filter   # another place/date policy for the "+u" modes

Prints Recall@1/5/10, MRR@10 and nDCG@10 per mode, overall, per question kind and per tag
(county, english_place, relative_date…), and the median query latency. Unanswerable questions
are left out of these metrics (they have no gold passage). A mode "X+u" is X with the
question's places and time understood (answer/ask.py). Precedent questions also get a
completeness figure: the share of gold reports the precedent list returns, and how many
returned reports are not gold, against the plain top 10 and over a threshold sweep.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from answer.ask import DEFAULT_POLICY, Policy, ask
from answer.relevance import judge_question, min_bm25_from_env
from eval.beir import evaluate_beir, index_with_distractors
from eval.gold import QUESTIONS, answer_supports, evidence_found, load_questions
from eval.metrics import mean, question_metrics
from eval.not_found import collect, table_rows, table_text
from eval.precedent import PRECEDENT_SWEEP, intent_detection, precedent_completeness
from eval.replies import (
    REPLY_QUESTIONS,
    load_reply_questions,
    reply_quality,
    summary_text,
    write_rows,
)
from eval.report import METRICS, best_threshold, compare, distribution, percentile, write_report
from index.build import cache_path_for, update_index
from index.engine import DEFAULT_FUSION, MODES, SearchEngine
from index.fusion import FUSIONS
from index.store import default_index_dir
from ingest.chunking import ChunkingParams
from ingest.cli_errors import exit_on_error
from ingest.paths import PROJECT_ROOT, SAMPLE_BULLETINS

CORPUS = SAMPLE_BULLETINS
REPORTS = PROJECT_ROOT / "reports"


UNDERSTOOD = "+u"  # "hybrid+u": hybrid with the question's places and time understood
DEFAULT_MODES = (*MODES, "hybrid" + UNDERSTOOD)


def ranked_hits(
    engine: SearchEngine, query: str, mode: str, depth: int, policy: Policy = DEFAULT_POLICY
):
    if mode.endswith(UNDERSTOOD):
        return ask(engine, query, depth, mode[: -len(UNDERSTOOD)], policy=policy).ranked()[:depth]
    return engine.search(query, depth, mode)


def evaluate(
    engine: SearchEngine, questions, mode: str, depth: int = 10, policy: Policy = DEFAULT_POLICY
) -> tuple[dict, dict, list[float], list[dict]]:
    per_question, latencies = [], []
    # each mode pays for its own query embedding
    engine.retrievers["dense"].query_vector.cache_clear()
    for q in questions:
        started = time.perf_counter()
        hits = ranked_hits(engine, q.query, mode, depth, policy)
        latencies.append((time.perf_counter() - started) * 1000)
        found = (
            evidence_found([h.chunk.text for h in hits], q.evidence)
            if q.answerable
            else [set() for _ in hits]
        )
        scores = (
            question_metrics(found, len(q.evidence)) if q.answerable else {m: 0.0 for m in METRICS}
        )
        per_question.append(
            {
                "mode": mode,
                "id": q.id,
                "kind": q.kind,
                "tags": list(q.tags),
                "query": q.query,
                "answerable": q.answerable,
                **scores,
                "results": [
                    {
                        "rank": i,
                        "chunk_id": h.chunk.chunk_id,
                        "title": h.chunk.meta.title,
                        "date": h.chunk.meta.date,
                        "score": round(h.score, 6),
                        "evidence": sorted(f),
                    }
                    for i, (h, f) in enumerate(zip(hits, found), 1)
                ],
            }
        )
    answered = [r for r in per_question if r["answerable"]]
    overall = mean([{k: r[k] for k in METRICS} for r in answered])
    kinds = sorted({r["kind"] for r in answered})
    by_kind = {
        kind: mean([{k: r[k] for k in METRICS} for r in answered if r["kind"] == kind])
        for kind in kinds
    }
    return overall, by_kind, latencies, per_question


def by_tag(per_question: list[dict]) -> dict[str, dict]:
    """Metrics per tag (a question may carry several), with the number of questions."""
    answered = [r for r in per_question if r["answerable"]]
    tags = sorted({t for r in answered for t in r.get("tags") or ()})
    return {
        tag: {
            **mean([{k: r[k] for k in METRICS} for r in answered if tag in r["tags"]]),
            "n": sum(tag in r["tags"] for r in answered),
        }
        for tag in tags
    }


def no_answer_analysis(engine: SearchEngine, questions) -> dict:
    """Top-result scores of answerable vs unanswerable questions, per signal, and the best cut."""
    signals = {"dense_top_cosine": [], "bm25_top_score": []}
    for q in questions:
        top = engine.top_scores(q.query)
        for name in signals:
            signals[name].append((q.answerable, top[name]))
    out = {}
    for name, pairs in signals.items():
        yes = [v for a, v in pairs if a]
        no = [v for a, v in pairs if not a]
        out[name] = {
            "answerable": distribution(yes),
            "unanswerable": distribution(no),
            **best_threshold(yes, no),
        }
    out["rule"] = not_found_rule(engine, questions)
    return out


def not_found_rule(engine: SearchEngine, questions) -> dict:
    """How the search's own found/not-found verdict (answer/relevance.py) does on the dev set."""
    min_bm25 = min_bm25_from_env()
    verdicts = [(q, judge_question(engine, q.query, min_bm25)) for q in questions]
    kept = [v.found for q, v in verdicts if q.answerable]
    refused = [not v.found for q, v in verdicts if not q.answerable]
    share = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {
        "min_bm25": min_bm25,
        "answerable_kept": share(kept),
        "unanswerable_refused": share(refused),
        "wrongly_refused": [q.id for q, v in verdicts if q.answerable and not v.found],
        "wrongly_answered": [q.id for q, v in verdicts if not q.answerable and v.found],
    }


def answer_quality(engine: SearchEngine, questions) -> dict:
    """The web chat's extractive reply (chat/service.py) over the engine being evaluated: share of
    answerable questions whose reply carries gold evidence, overall and per kind, and of
    unanswerable ones given no reply."""
    from chat.service import Assistant

    assistant = Assistant.open(engine.stored.path, watch=False, engine=engine)
    supported: dict[str, list[bool]] = {}
    silent = []
    for q in questions:
        record = assistant.ask(q.query)
        if q.answerable:
            supported.setdefault(q.kind, []).append(answer_supports(record["answer"], q.evidence))
        else:
            silent.append(record["answer"] == "")
    share = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {
        "answer_has_evidence": share([x for xs in supported.values() for x in xs]),
        "by_kind": {kind: share(xs) for kind, xs in sorted(supported.items())},
        "unanswerable_no_reply": share(silent),
    }


def table(results: dict[str, tuple]) -> str:
    lines = [f"{'mode':<8} " + " ".join(f"{m:>9}" for m in METRICS) + f" {'p50 ms':>8}"]
    for mode, (overall, _, latencies, _) in results.items():  # noqa: B007
        lines.append(
            f"{mode:<8} "
            + " ".join(f"{overall[m]:>9.3f}" for m in METRICS)
            + f" {statistics.median(latencies):>8.1f}"
        )
    kinds = next(iter(results.values()))[1].keys()
    for kind in kinds:
        lines.append(f"\n[{kind}]")
        for mode, (_, by_kind, _, per_q) in results.items():
            n = sum(1 for r in per_q if r["kind"] == kind and r["answerable"])
            lines.append(
                f"{mode:<8} " + " ".join(f"{by_kind[kind][m]:>9.3f}" for m in METRICS) + f"   n={n}"
            )
    tagged = {mode: by_tag(per_q) for mode, (_, _, _, per_q) in results.items()}
    for tag in sorted({t for rows in tagged.values() for t in rows}):
        lines.append(f"\n[#{tag}]")
        for mode, rows in tagged.items():
            if tag in rows:
                lines.append(
                    f"{mode:<8} "
                    + " ".join(f"{rows[tag][m]:>9.3f}" for m in METRICS)
                    + f"   n={rows[tag]['n']}"
                )
    return "\n".join(lines)


def precedent_table(data: dict) -> str:
    lines = [
        f"precedent questions: {data['questions']} ({data['gold']} gold reports); list threshold "
        f"{data['threshold']}",
        f"  precedent list : completeness {data['completeness']:.3f} (macro "
        f"{data['completeness_macro']:.3f}; with the related entries "
        f"{data['completeness_shown']:.3f}), "
        f"counted {data['returned']}, not gold {data['non_gold']} "
        f"({data['non_gold_per_question']:.1f} per question)",
        f"  plain top {data['baseline']['k']}   : completeness "
        f"{data['baseline']['completeness']:.3f}, "
        f"returned {data['baseline']['returned']}, not gold {data['baseline']['non_gold']}",
        "  threshold sweep: "
        + "; ".join(
            f"{row['threshold']}: {row['completeness']:.3f} / {row['non_gold']}"
            for row in data["sweep"]
        ),
        "  list intent read from the wording: "
        f"{data['intent']['recall']:.3f} of precedent questions; "
        f"also on {len(data['intent']['false_positives'])} other questions "
        f"{data['intent']['false_positives']}",
    ]
    return "\n".join(lines)


def run_beir(args: argparse.Namespace, modes: list[str]) -> int:
    """A BEIR dataset with our embedder, tokenizer and fusion (no bulletin parsing)."""
    with exit_on_error(ValueError), tempfile.TemporaryDirectory() as tmp:
        result = evaluate_beir(
            Path(args.beir),
            Path(tmp) / "beir",
            tokenizer=args.tokenizer or "jieba",
            cache_path=embedding_cache(args),
            modes=tuple(modes),
            fusion=args.fusion,
        )
    print(
        f"BEIR {args.beir}: {result.passages} passages, {result.queries} queries, embedded "
        f"{result.embedded} new\n"
    )
    print(f"{'mode':<8} " + " ".join(f"{m:>9}" for m in METRICS) + f" {'p50 ms':>8}")
    for mode, values in result.metrics.items():
        print(
            f"{mode:<8} "
            + " ".join(f"{values[m]:>9.3f}" for m in METRICS)
            + f" {result.latency_ms[mode]:>8.1f}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eval",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index", metavar="DIR", help="evaluate this index (default data/index)")
    parser.add_argument("--questions", default=str(QUESTIONS), help="question set (JSONL)")
    parser.add_argument(
        "--tokenizer", help="build a temporary index with this BM25 tokenizer (jieba, bigram)"
    )
    parser.add_argument(
        "--chunk-size", type=int, help="build a temporary index with this chunk size"
    )
    parser.add_argument("--chunk-overlap", type=int, help="… and this overlap")
    parser.add_argument(
        "--fusion",
        default=DEFAULT_FUSION,
        choices=tuple(FUSIONS),
        help=f"hybrid fusion (default {DEFAULT_FUSION})",
    )
    parser.add_argument(
        "--modes",
        help=(
            f"comma-separated modes to run (default {','.join(DEFAULT_MODES)}; with --beir "
            f"{','.join(MODES)}; X+u = X with the question understood)"
        ),
    )
    parser.add_argument(
        "--policy",
        default="",
        metavar="K=V,…",
        help=(
            "place/date policy for the +u modes, e.g. place=filter,date=boost,undated=separate "
            "(answer/ask.py Policy)"
        ),
    )
    parser.add_argument(
        "--beir",
        metavar="DIR",
        help=(
            "evaluate on a BEIR-layout dataset instead "
            "(corpus.jsonl, queries.jsonl, qrels/test.tsv)"
        ),
    )
    parser.add_argument(
        "--distractors",
        metavar="DIR",
        help="add these documents (.txt folder or BEIR corpus) to the bulletins before indexing",
    )
    parser.add_argument(
        "--replies",
        default=str(REPLY_QUESTIONS),
        metavar="FILE",
        help="reply-level questions (JSONL) judged on the web chat's reply text",
    )
    parser.add_argument(
        "--only-replies",
        action="store_true",
        help="judge only the chat's replies (skip the ranking metrics: a quick check)",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="report folder (default reports/eval-YYYYmmdd-HHMMSS)"
    )
    parser.add_argument(
        "--compare", metavar="OLD_REPORT", help="print differences against an earlier report folder"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.beir:
        modes = args.modes.split(",") if args.modes else list(MODES)
        if any(m not in MODES for m in modes):
            # +u reads places and dates of Sichuan bulletins: nothing to understand in a
            # BEIR set's queries, so only the plain retrievers are measured there
            parser.error(f"--beir runs the modes {', '.join(MODES)}; not {args.modes}")
        return run_beir(args, modes)
    try:
        policy = Policy.parse(args.policy)
    except ValueError as exc:
        parser.error(str(exc))
    questions = load_questions(Path(args.questions))
    # Index, embedder and usage problems: one line on stderr, status 2.
    with exit_on_error(), tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(args, Path(tmp))
        print_settings(engine, questions, args.fusion)
        modes = args.modes.split(",") if args.modes else list(DEFAULT_MODES)
        unknown = [m for m in modes if m.removesuffix(UNDERSTOOD) not in MODES]
        if unknown:
            parser.error(
                f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}, each "
                f"optionally with {UNDERSTOOD}"
            )
        if args.only_replies:
            reply_summary, reply_rows = replies(engine, args)
            save({"replies": reply_summary}, {}, args, reply_rows)
            return 0
        results = {mode: evaluate(engine, questions, mode, policy=policy) for mode in modes}
        print(table(results))
        summary = measure(engine, questions, modes, results, policy, args)
        summary["replies"], reply_rows = replies(engine, args)
        save(summary, results, args, reply_rows)
    return 0


def replies(engine: SearchEngine, args: argparse.Namespace) -> tuple[dict, list[dict]]:
    """The web chat's replies judged on the reply questions (eval/replies.py), and the "not
    found" decision's precision/recall over its coverage floor (eval/not_found.py), printed."""
    from chat.service import Assistant

    assistant = Assistant.open(engine.stored.path, watch=False, engine=engine)
    reply_questions = load_reply_questions(Path(args.replies))
    summary, rows = reply_quality(assistant, reply_questions)
    print("\nreplies (" + args.replies + "):\n" + summary_text(summary))
    asked = [(q.query, None, q.answerable, "dev") for q in load_questions(Path(args.questions))]
    asked += [(q.query, q.previous, q.answerable, "replies") for q in reply_questions]
    summary["not_found_table"] = table_rows(collect(engine, asked))
    print("\nnot found (dev + reply questions):\n" + table_text(summary["not_found_table"]))
    return summary, rows


def embedding_cache(args: argparse.Namespace) -> Path:
    """The embedding cache of the index named by --index (or $BULLETIN_INDEX_DIR): a temporary
    index built here embeds only what that index has not embedded before."""
    return cache_path_for(Path(args.index) if args.index else default_index_dir())


def open_engine(args: argparse.Namespace, tmp: Path) -> SearchEngine:
    """The index to evaluate: with --distractors, or another tokenizer or chunking, a temporary
    one built in tmp; else --index (or the default), built from the sample bulletins when it
    has none."""
    index_dir = Path(args.index) if args.index else default_index_dir()
    if args.distractors:
        target = tmp / "index"
        built = index_with_distractors(
            CORPUS,
            Path(args.distractors),
            target,
            cache_path=embedding_cache(args),
            tokenizer=args.tokenizer or "jieba",
        )
        print(
            f"with distractors from {args.distractors}: {built['chunks']} chunks, "
            f"{built['distractors']} distractor documents"
            + (f", {len(built['failed'])} files failed" if built["failed"] else "")
        )
        index_dir = target
    elif args.tokenizer or args.chunk_size or args.chunk_overlap:
        defaults = ChunkingParams()
        params = ChunkingParams(
            args.chunk_size or defaults.chunk_size, args.chunk_overlap or defaults.chunk_overlap
        )
        target = tmp / "index"
        update_index(
            [CORPUS],
            target,
            tokenizer=args.tokenizer,
            params=params,
            cache_path=embedding_cache(args),
        )
        index_dir = target
    elif not (index_dir / "manifest.json").exists():
        update_index([CORPUS], index_dir)
    return SearchEngine.open(index_dir, fusion=args.fusion)


def print_settings(engine: SearchEngine, questions, fusion: str) -> None:
    pipeline = engine.manifest["pipeline"]
    chunking = pipeline.get("chunking") or {}
    print(
        f"{len(questions)} questions ({sum(q.answerable for q in questions)} answerable) · "
        f"tokenizer {pipeline['tokenizer']} · chunks {chunking.get('chunk_size')}/"
        f"{chunking.get('chunk_overlap')} · "
        f"fusion {fusion} · embedder {engine.manifest['embedder']['id']}\n"
    )


def measure(
    engine: SearchEngine,
    questions,
    modes: list[str],
    results: dict[str, tuple],
    policy: Policy,
    args: argparse.Namespace,
) -> dict:
    """The summary: settings and each mode's metrics, then the not-found analysis, the chat's
    replies and the precedent lists (each printed as it is measured)."""
    pipeline = engine.manifest["pipeline"]
    summary = {
        "settings": {
            "questions": str(args.questions),
            "n_questions": len(questions),
            "tokenizer": pipeline["tokenizer"],
            "chunking": pipeline.get("chunking"),
            "fusion": args.fusion,
            "embedder": engine.manifest["embedder"]["id"],
            "policy": policy.__dict__,
        },
        "modes": {
            mode: {
                "overall": o,
                "by_kind": bk,
                "by_tag": by_tag(per_q),
                "latency_ms_p50": statistics.median(lat),
                "latency_ms_p95": percentile(lat, 0.95),
            }
            for mode, (o, bk, lat, per_q) in results.items()
        },
        "no_answer": no_answer_analysis(engine, questions),
        "answers": answer_quality(engine, questions),
    }
    answers = summary["answers"]
    print(
        f"\nweb chat replies: {answers['answer_has_evidence']} "
        "of answerable questions carry gold evidence "
        f"({', '.join(f'{k} {v}' for k, v in answers['by_kind'].items())}); "
        f"{answers['unanswerable_no_reply']} of unanswerable ones get no reply"
    )
    precedent_mode = next(
        (m for m in modes if m.endswith(UNDERSTOOD)), "hybrid" + UNDERSTOOD
    ).removesuffix(UNDERSTOOD)
    summary["precedent"] = precedent_completeness(
        engine, questions, precedent_mode, policy, PRECEDENT_SWEEP
    )
    summary["precedent"]["intent"] = intent_detection(engine, questions)
    print("\n" + precedent_table(summary["precedent"]))
    print(no_answer_text(summary["no_answer"]))
    return summary


def no_answer_text(no_answer: dict) -> str:
    rule = no_answer["rule"]
    lines = [
        f"\nnot-found decision (answer/relevance.py): answerable kept "
        f"{rule['answerable_kept']}, "
        f"unanswerable refused {rule['unanswerable_refused']}"
    ]
    for signal, data in no_answer.items():
        if signal == "rule":
            continue
        lines.append(
            f"\nno-answer · {signal}: answerable median {data['answerable'].get('median', 0):.3f}, "
            f"unanswerable median {data['unanswerable'].get('median', 0):.3f}; best threshold "
            f"{data['threshold']} "
            f"(balanced accuracy {data['balanced_accuracy']})"
        )
    return "\n".join(lines)


def save(
    summary: dict, results: dict[str, tuple], args: argparse.Namespace, reply_rows: list[dict]
) -> None:
    """The report folder (report.md, summary.json, questions.jsonl, replies.jsonl, modes.png),
    and --compare."""
    rows = [row for _, (_, _, _, per_q) in results.items() for row in per_q]
    out_dir = Path(args.out) if args.out else REPORTS / time.strftime("eval-%Y%m%d-%H%M%S")
    if not results:  # --only-replies
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        print(f"\nreport: {write_rows(out_dir, reply_rows)} (summary.json)")
        return
    write_report(out_dir, summary, rows)
    write_rows(out_dir, reply_rows)
    print(f"\nreport: {out_dir}/report.md (+ summary.json, questions.jsonl, replies.jsonl)")
    if args.compare:
        print("\n" + compare(Path(args.compare), summary, rows))


if __name__ == "__main__":
    sys.exit(main())
