"""Safe updates with real processes and the real model: SIGKILL mid-ingest, two ingests at once.

Each test starts from a small real index (the 2020 bulletin) and runs `python -m
ingest` in a child process whose stderr (not a terminal: progress lines) is read
as it comes, so a kill lands at a known moment of the ingest.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import B2020, B2022, B2023, B2024, BUNDATED, ROOT, cli
from index.engine import SearchEngine
from index.reports import reports_dir_for
from index.store import load_stored, previous_dir

pytestmark = pytest.mark.slow  # needs the real embedding model (see pyproject markers)

# Runs the ingest CLI but SIGKILLs itself at an exact point: "write" = once the
# temporary folder holds part of the new index; "swap" = between swap_in's two
# renames (live index moved aside, new one not yet in place); "publish" = an added
# bulletin's segment written, its manifest not yet renamed into place (index/segments.py).
KILL_AT = r"""
import os, signal, sys
import index.segments as segments
import index.store as store

point, args = sys.argv[1], sys.argv[2:]
if point == "publish":
    def die_before_publishing(index_dir, manifest):
        os.kill(os.getpid(), signal.SIGKILL)
    segments.publish_manifest = die_before_publishing
elif point == "write":
    real_write = store.write_jsonl
    def write_then_die(path, rows):
        real_write(path, rows)
        os.kill(os.getpid(), signal.SIGKILL)
    store.write_jsonl = write_then_die
elif point == "swap":
    real_replace = os.replace
    def replace_then_die(src, dst):
        real_replace(src, dst)
        if str(dst).endswith(".previous"):
            os.kill(os.getpid(), signal.SIGKILL)
    os.replace = replace_then_die
from ingest.__main__ import main
sys.exit(main(args))
"""


class Ingest:
    """An ingest process running in the background; stderr lines are collected as they come."""

    def __init__(self, *args, kill_at: str | None = None, env: dict | None = None):
        command = (
            [sys.executable, "-c", KILL_AT, kill_at]
            if kill_at
            else [sys.executable, "-m", "ingest"]
        )
        self.proc = subprocess.Popen(
            [*command, *map(str, args)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.pid = self.proc.pid
        self.seen: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, text: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no {text!r} within {timeout} s; stderr so far:\n{''.join(self.seen)}"
                ) from None
            if line is None:
                raise AssertionError(
                    f"exited {self.proc.wait()} before printing {text!r}; stderr:"
                    f"\n{''.join(self.seen)}"
                )
            self.seen.append(line)
            if text in line:
                return line

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        stdout = self.proc.stdout.read()
        code = self.proc.wait(timeout)
        while (line := self._lines.get(timeout=10)) is not None:
            self.seen.append(line)
        return code, stdout, "".join(self.seen)

    def kill(self) -> int:
        self.proc.send_signal(signal.SIGKILL)
        return self.finish()[0]


@pytest.fixture(scope="module")
def base_index(tmp_path_factory):
    """A real index of the 2020 bulletin (and its embedding cache), built once."""
    folder = tmp_path_factory.mktemp("base")
    cli("-m", "ingest", str(B2020), "--index", str(folder / "index"), "--no-progress")
    return folder


@pytest.fixture
def index_dir(base_index, tmp_path):
    """A private copy of the base index (with its cache, so B2020 is never embedded again)."""
    for name in ("index", "index.cache"):
        shutil.copytree(base_index / name, tmp_path / name)
    return tmp_path / "index"


def leftovers(index_dir):
    return sorted(
        p.name
        for p in index_dir.parent.iterdir()
        if ".building-" in p.name or p.name.endswith(".previous")
    )


def assert_answers_as_before(index_dir):
    """The previous index (only the 2020 bulletin) loads and answers, in-process and through the
    search CLI."""
    engine = SearchEngine.open(index_dir)
    assert [b["date"] for b in engine.stored.bulletins.values()] == ["2020-07-20"]
    top = engine.search("大竹县 批示", 1)[0]
    assert "大竹县" in top.chunk.text and top.chunk.meta.date == "2020-07-20"
    payload = json.loads(
        cli(
            "-m", "index.search", "--json", "-k", "1", "--index", str(index_dir), "大竹县 批示"
        ).stdout
    )
    assert payload["results"][0]["chunk_id"] == top.chunk.chunk_id


def test_sigkill_while_embedding_keeps_the_previous_index_and_the_next_ingest_completes(index_dir):
    run = Ingest(B2020, B2022, B2023, "--index", index_dir)
    run.wait_for("进度 progress: 解析 parse 3/3")
    # parsing done, the model is embedding the new passages
    run.wait_for("进度 progress: 向量化 embed")
    time.sleep(1.0)
    assert run.kill() == -signal.SIGKILL
    assert_answers_as_before(index_dir)

    done = cli("-m", "ingest", str(B2020), str(B2022), str(B2023), "--index", str(index_dir))
    assert "3 期简报" in done.stdout and "新增" in done.stdout
    # progress lines when stderr is not a terminal
    assert "进度 progress: 向量化 embed" in done.stderr
    assert len(load_stored(index_dir).bulletins) == 3 and leftovers(index_dir) == []


@pytest.mark.parametrize("point", ["write", "swap"])
def test_sigkill_while_writing_or_swapping_recovers_on_the_next_ingest(index_dir, point):
    killed = Ingest(B2020, B2022, "--index", index_dir, "--no-progress", kill_at=point)
    assert killed.finish()[0] == -signal.SIGKILL
    left = leftovers(index_dir)
    assert len([name for name in left if ".building-" in name]) == 1  # the unfinished new version
    if point == "swap":
        assert not index_dir.exists() and previous_dir(index_dir).name in left
    assert_answers_as_before(index_dir)  # readers find the last good version meanwhile

    done = cli("-m", "ingest", str(B2020), str(B2022), "--index", str(index_dir), "--no-progress")
    assert "清理 / tidied: removed unfinished build index.building-" in done.stdout
    if point == "swap":
        assert "restored the previous index" in done.stdout
    assert "新向量化 0 个" in done.stdout  # the killed run's embeddings were cached
    assert leftovers(index_dir) == []
    stored = load_stored(index_dir)
    assert sorted(b["date"] for b in stored.bulletins.values()) == ["2020-07-20", "2022-11-02"]


def test_sigkill_before_a_segment_is_published_recovers_on_the_next_ingest(index_dir):
    """An added bulletin goes into a segment (forced on this small index); a kill after the
    segment is written and before its manifest is renamed into place leaves the previous
    version readable, and the next ingest removes the unpublished segment and adds it again."""
    segments = {"BULLETIN_SEGMENT_OVER": "0", "BULLETIN_SEGMENT_SHARE": "100"}
    args = (B2020, B2022, "--index", index_dir, "--no-progress")
    killed = Ingest(*args, kill_at="publish", env=segments)
    assert killed.finish()[0] == -signal.SIGKILL
    unpublished = [p.name for p in (index_dir / "segments").iterdir()]
    assert len(unpublished) == 1
    assert_answers_as_before(index_dir)

    done = Ingest(*args, env=segments)
    code, stdout, _ = done.finish()
    assert code == 0, stdout
    assert f"removed unpublished segment segments/{unpublished[0]}" in stdout
    assert "新向量化 0 个" in stdout  # the killed run's embeddings were cached
    stored = load_stored(index_dir)
    assert [p.name for p in stored.segments] == [p.name for p in (index_dir / "segments").iterdir()]
    assert len(stored.segments) == 1 and leftovers(index_dir) == []
    assert sorted(b["date"] for b in stored.bulletins.values()) == ["2020-07-20", "2022-11-02"]


def test_two_ingests_at_once_both_land(index_dir):
    """Without the lock both would read the 1-bulletin index and the later swap would drop the
    other's files."""
    first = Ingest(B2022, B2023, "--index", index_dir)
    # it holds the lock from before parsing until the swap
    first.wait_for("进度 progress: 解析 parse 0/")
    second = Ingest(B2024, BUNDATED, "--index", index_dir)
    waiting = second.wait_for("another ingest")
    assert (
        f"另一个导入正在进行（PID {first.pid}）" in waiting
        and f"another ingest (PID {first.pid}) is running" in waiting
    )
    assert first.finish()[0] == 0
    code, stdout, _ = second.finish()
    assert code == 0 and "保留" in stdout  # the second one kept what the first added
    stored = load_stored(index_dir)
    assert len(stored.bulletins) == 5 and stored.faiss_index.ntotal == len(stored.chunks)
    assert {c.doc_id for c in stored.chunks} == set(stored.bulletins)
    latest = json.loads((reports_dir_for(index_dir) / "latest.json").read_text(encoding="utf-8"))
    assert latest["lock_wait_seconds"] > 0 and latest["counts"] == {"kept": 3, "added": 2}


def test_no_wait_refuses_timeout_gives_up_and_a_killed_holder_leaves_no_stale_lock(index_dir):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom index.lock import IndexLock\n"
            "IndexLock(sys.argv[1]).acquire()\nprint('locked', flush=True)\ntime.sleep(600)",
            str(index_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = cli(
            "-m", "ingest", str(B2022), "--index", str(index_dir), "--no-wait", check=False
        )
        assert refused.returncode == 3
        assert (
            f"PID {holder.pid}" in refused.stderr
            and "--no-wait" in refused.stderr
            and "Traceback" not in refused.stderr
        )

        started = time.monotonic()
        gave_up = cli(
            "-m",
            "ingest",
            str(B2022),
            "--index",
            str(index_dir),
            "--wait-timeout",
            "1",
            check=False,
        )
        assert gave_up.returncode == 3 and time.monotonic() - started >= 1
        assert (
            f"另一个导入正在进行（PID {holder.pid}）" in gave_up.stderr
            and "gave up after" in gave_up.stderr
        )
        assert_answers_as_before(index_dir)  # refused ingests changed nothing

        waiting = Ingest(B2022, "--index", index_dir)
        waiting.wait_for("another ingest")
        holder.send_signal(signal.SIGKILL)  # the kernel drops a dead process's flock
        holder.wait(10)
        code, stdout, _ = waiting.finish()
        assert code == 0 and "2 期简报" in stdout
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
