"""Measure retrieval quality on the dev questions: python -m eval

Examples:
  python -m eval                         # the default index (data/index), every mode
  python -m eval --tokenizer bigram      # a temporary index with another BM25 tokenizer
  python -m eval --fusion weighted       # hybrid with weighted score fusion instead of RRF
  python -m eval --chunk-size 350 --chunk-overlap 50

Prints Recall@1/5/10, MRR@10 and nDCG@10 per mode, overall and per question kind,
and the median query latency. Unanswerable questions are left out of these
metrics (they have no gold passage).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from eval.gold import QUESTIONS, evidence_found, load_questions
from eval.metrics import mean, question_metrics
from index.build import cache_path_for, update_index
from index.engine import DEFAULT_FUSION, MODES, SearchEngine
from index.store import DEFAULT_INDEX_DIR, IndexError_, default_index_dir
from ingest.chunking import ChunkingParams

CORPUS = Path(__file__).resolve().parent.parent / "data" / "bulletins"
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def evaluate(engine: SearchEngine, questions, mode: str, depth: int = 10) -> tuple[dict, dict, list[float], list[dict]]:
    per_question, latencies = [], []
    for q in questions:
        started = time.perf_counter()
        hits = engine.search(q.query, depth, mode)
        latencies.append((time.perf_counter() - started) * 1000)
        if not q.answerable:
            continue
        found = evidence_found([h.chunk.text for h in hits], q.evidence)
        per_question.append({"id": q.id, "kind": q.kind, **question_metrics(found, len(q.evidence))})
    overall = mean([{k: r[k] for k in METRICS} for r in per_question])
    kinds = sorted({r["kind"] for r in per_question})
    by_kind = {kind: mean([{k: r[k] for k in METRICS} for r in per_question if r["kind"] == kind]) for kind in kinds}
    return overall, by_kind, latencies, per_question


def table(results: dict[str, tuple]) -> str:
    lines = [f"{'mode':<8} " + " ".join(f"{m:>9}" for m in METRICS) + f" {'p50 ms':>8}"]
    for mode, (overall, _, latencies, _) in results.items():
        lines.append(f"{mode:<8} " + " ".join(f"{overall[m]:>9.3f}" for m in METRICS) + f" {statistics.median(latencies):>8.1f}")
    kinds = next(iter(results.values()))[1].keys()
    for kind in kinds:
        lines.append(f"\n[{kind}]")
        for mode, (_, by_kind, _, per_q) in results.items():
            n = sum(1 for r in per_q if r["kind"] == kind)
            lines.append(f"{mode:<8} " + " ".join(f"{by_kind[kind][m]:>9.3f}" for m in METRICS) + f"   n={n}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", metavar="DIR", help="evaluate this index (default data/index)")
    parser.add_argument("--questions", default=str(QUESTIONS), help="question set (JSONL)")
    parser.add_argument("--tokenizer", help="build a temporary index with this BM25 tokenizer (jieba, bigram)")
    parser.add_argument("--chunk-size", type=int, help="build a temporary index with this chunk size")
    parser.add_argument("--chunk-overlap", type=int, help="… and this overlap")
    parser.add_argument("--fusion", default=DEFAULT_FUSION, choices=("rrf", "weighted"), help=f"hybrid fusion (default {DEFAULT_FUSION})")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes to run")
    args = parser.parse_args(argv)

    questions = load_questions(Path(args.questions))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            index_dir = Path(args.index) if args.index else default_index_dir()
            if args.tokenizer or args.chunk_size or args.chunk_overlap:
                defaults = ChunkingParams()
                params = ChunkingParams(args.chunk_size or defaults.chunk_size, args.chunk_overlap or defaults.chunk_overlap)
                target = Path(tmp) / "index"
                update_index([CORPUS], target, tokenizer=args.tokenizer, params=params,
                             cache_path=cache_path_for(DEFAULT_INDEX_DIR))
                index_dir = target
            elif not (index_dir / "manifest.json").exists():
                update_index([CORPUS], index_dir)
            engine = SearchEngine.open(index_dir, fusion=args.fusion)
            pipeline = engine.manifest["pipeline"]
            print(f"{len(questions)} questions ({sum(q.answerable for q in questions)} answerable) · "
                  f"tokenizer {pipeline['tokenizer']} · chunks {pipeline['chunking']['chunk_size']}/{pipeline['chunking']['chunk_overlap']} · "
                  f"fusion {args.fusion} · embedder {engine.manifest['embedder']['id']}\n")
            results = {mode: evaluate(engine, questions, mode) for mode in args.modes.split(",")}
            print(table(results))
    except IndexError_ as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
