"""Core benchmark: ingest speed and search latency. Prints numbers; asserts nothing.

    python bench/bench_core.py [--repeats 3]

1. Cold ingest of the bundled bulletins into a fresh index with an empty
   embedding cache (chunks/s), median over repeats.
2. Re-ingest with nothing changed, as a user runs it: `python -m ingest
   data/bulletins --index DIR` in a new process (wall time, median).
3. Search latency per mode after the index is loaded, over the dev questions
   (eval/questions/dev.jsonl), each asked `repeats` times: p50 / p95.
Targets on the 2-core reference machine: re-ingest unchanged <= 3 s, hybrid p50 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from answer.ask import ask
from eval.gold import load_questions
from eval.report import percentile
from index.build import update_index
from index.engine import MODES, SearchEngine
from ingest.paths import SAMPLE_BULLETINS as CORPUS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    cold, chunks = [], 0
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            report = update_index(
                [CORPUS], Path(tmp) / "index", cache_path=Path(tmp) / "cache.sqlite"
            )
            cold.append(time.perf_counter() - started)
            chunks = report.total_chunks
    cold_median = statistics.median(cold)
    print(
        f"cold ingest: {len(list(CORPUS.glob('*.txt')))} bulletins, {chunks} chunks, "
        f"median {cold_median:.2f} s over {args.repeats} "
        f"runs -> {chunks / cold_median:.1f} chunks/s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        update_index([CORPUS], index_dir, cache_path=Path(tmp) / "cache.sqlite")
        command = [
            sys.executable,
            "-m",
            "ingest",
            str(CORPUS),
            "--index",
            str(index_dir),
            "--no-progress",
        ]
        again = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env={**os.environ})
            again.append(time.perf_counter() - started)
        print(
            f"re-ingest unchanged (new process, CLI): median {statistics.median(again):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in again)}; target <= 3 s)"
        )

        started = time.perf_counter()
        engine = SearchEngine.open(index_dir)
        print(f"index load: {time.perf_counter() - started:.2f} s")
        # Every timed call embeds its question, as a new question from a user would.
        forget_queries = engine.retrievers["dense"].query_vector.cache_clear
        queries = [q.query for q in load_questions()]
        for mode in MODES:
            # warm-up (first dense call loads nothing more, but caches)
            engine.search(queries[0], 5, mode)
            times = []
            for _ in range(args.repeats):
                for query in queries:
                    forget_queries()
                    started = time.perf_counter()
                    engine.search(query, 5, mode)
                    times.append((time.perf_counter() - started) * 1000)
            print(
                f"search {mode:<6}: p50 {percentile(times, 0.5):6.1f} ms  p95 "
                f"{percentile(times, 0.95):6.1f} ms  "
                f"({len(times)} searches, k=5)"
            )
        # The web chat's call: places, time and list intent understood; precedent lists when asked.
        ask(engine, queries[0], 5)
        for label, wanted in (
            ("ask (understood)", lambda a: True),
            ("ask, precedent lists", lambda a: a.precedent is not None),
        ):
            times = []
            for _ in range(args.repeats):
                for query in queries:
                    forget_queries()
                    started = time.perf_counter()
                    answer = ask(engine, query, 5)
                    elapsed = (time.perf_counter() - started) * 1000
                    if wanted(answer):
                        times.append(elapsed)
            print(
                f"{label:<22}: p50 {percentile(times, 0.5):6.1f} ms  p95 "
                f"{percentile(times, 0.95):6.1f} ms  ({len(times)} calls, k=5)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
