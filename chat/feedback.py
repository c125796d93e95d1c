"""👍/👎 on answers, kept on this machine for later evaluation.

One JSON line per vote: when, the vote, the question (and the query it stood for), the
answer shown, and the passages shown with their citations. JSON Lines so a crash loses
at most the line being written and the file can be read while the app runs.
Where: $BULLETIN_FEEDBACK_FILE, else data/feedback/votes.jsonl.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from ingest.paths import DATA_DIR

DEFAULT_PATH = DATA_DIR / "feedback" / "votes.jsonl"
_lock = threading.Lock()


def feedback_path() -> Path:
    return Path(os.environ.get("BULLETIN_FEEDBACK_FILE") or DEFAULT_PATH)


def record_vote(record: dict, liked: bool, path: Path | None = None) -> dict:
    """Append one vote; `record` is the structured answer the user voted on."""
    path = path or feedback_path()
    row = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "vote": "up" if liked else "down",
        "question": record.get("question"),
        "query": record.get("query"),
        "found": record.get("found"),
        "answer": record.get("answer"),
        "passages": [
            {
                "rank": r["rank"],
                "chunk_id": r["chunk_id"],
                "citation": r.get("citation"),
                "score": r["score"],
            }
            for r in record.get("results", [])
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row
