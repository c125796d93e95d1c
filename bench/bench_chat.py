"""Time to answer through the web chat's API (gradio_client), one user and 8 at once.

    python bench/bench_chat.py                      # starts app.py on a free port over data/index
    python bench/bench_chat.py --url http://127.0.0.1:7860/ --users 8 --questions 20

Each user asks the dev questions in its own order, one after another; a request's time
is from predict() to its answer. Prints p50/p95 per setting, errors and answers/s.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from eval.gold import load_questions
from eval.report import percentile


def run_users(url: str, questions: list[str], users: int, per_user: int) -> dict:
    from gradio_client import Client

    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(number: int) -> None:
        client = Client(url, verbose=False, analytics_enabled=False)
        for i in range(per_user):
            question = questions[(number * 7 + i) % len(questions)]
            started = time.perf_counter()
            try:
                answer = client.predict(question=question, api_name="/ask")
                assert "results" in answer
            except Exception as exc:
                # counted and reported, not raised: the benchmark measures them
                with lock:
                    errors.append(f"{question}: {exc}")
                continue
            with lock:
                times.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "users": users,
        "requests": users * per_user,
        "answered": len(times),
        "errors": errors,
        "p50_ms": statistics.median(times) if times else None,
        "p95_ms": percentile(times, 0.95) if times else None,
        "answers_per_s": len(times) / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: start one over --index)")
    parser.add_argument("--index", default=str(ROOT / "data" / "index"))
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--questions", type=int, default=20, help="questions per user")
    args = parser.parse_args()
    questions = [q.query for q in load_questions()]
    with contextlib.ExitStack() as stack:
        url = args.url
        if not url:
            from live_app import running_app

            url = stack.enter_context(
                running_app(
                    Path(args.index), Path(stack.enter_context(tempfile.TemporaryDirectory()))
                )
            )
        run_users(url, questions[:5], 1, 5)  # warm-up: models, caches, first-request costs
        for users in (1, args.users):
            result = run_users(url, questions, users, args.questions)
            print(
                f"{users} user(s): {result['answered']}/{result['requests']} answered, "
                f"{len(result['errors'])} errors, "
                f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
                f"{result['answers_per_s']:.1f} answers/s"
            )
            for error in result["errors"][:5]:
                print("  error:", error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
