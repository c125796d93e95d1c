"""Safe updates without the model: the lock, tidying after a killed ingest, saved reports, progress
lines."""

import io
import json
import os

import pytest

from conftest import B2020, B2022
from index.build import update_index
from index.lock import IndexBusyError, IndexLock, lock_path_for
from index.reports import format_markdown, reports_dir_for, save_report
from index.store import load_stored, previous_dir, recover_interrupted
from ingest.__main__ import ProgressLines


def build(paths, index_dir, embedder, **kw):
    return update_index(
        paths, index_dir, embedder=embedder, cache_path=index_dir.parent / "cache.sqlite", **kw
    )


# --- the lock ---------------------------------------------------------------


def test_second_lock_on_the_same_index_is_refused_with_the_holders_pid(tmp_path):
    index_dir = tmp_path / "index"
    with IndexLock(index_dir):
        assert lock_path_for(index_dir).read_text().strip() == str(os.getpid())
        # flock conflicts between two open files even inside one process, so this is a real
        # contender.
        with pytest.raises(IndexBusyError, match=f"PID {os.getpid()}") as caught:
            IndexLock(index_dir, timeout=0).acquire()
        assert caught.value.holder_pid == os.getpid()
    assert lock_path_for(index_dir).read_text() == ""  # released: no PID left behind
    with IndexLock(index_dir, timeout=0):  # and free again
        pass


def test_waiting_for_the_lock_announces_the_holder_once_then_times_out(tmp_path):
    index_dir = tmp_path / "index"
    announced = []
    with IndexLock(index_dir):
        with pytest.raises(IndexBusyError, match="gave up after"):
            IndexLock(index_dir, timeout=0.5, on_wait=announced.append, poll=0.05).acquire()
    assert announced == [os.getpid()]


def test_update_refuses_while_another_update_holds_the_index(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    build([B2020], index_dir, fake_embedder)
    with IndexLock(index_dir):
        with pytest.raises(IndexBusyError):
            build([B2022], index_dir, fake_embedder, lock_timeout=0)
    assert len(load_stored(index_dir).bulletins) == 1
    report = build([B2022], index_dir, fake_embedder, lock_timeout=0)
    assert report.lock_wait_seconds < 1 and len(load_stored(index_dir).bulletins) == 2


# --- tidying what a killed ingest left --------------------------------------


def test_kill_between_the_swap_renames_is_undone_by_the_next_update(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    build([B2020], index_dir, fake_embedder)
    # The state a SIGKILL between swap_in's two renames leaves: live index aside, a finished
    # build beside it.
    index_dir.rename(previous_dir(index_dir))
    (tmp_path / "index.building-abc123").mkdir()
    (tmp_path / "index.building-abc123" / "faiss.index").write_bytes(b"partial")
    assert len(load_stored(index_dir).bulletins) == 1  # readers already find the previous version

    report = build([B2022], index_dir, fake_embedder)
    assert any("restored the previous index" in note for note in report.recovered)
    assert any("index.building-abc123" in note for note in report.recovered)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("index")) == [
        "index",
        "index.lock",
        "index.reports",
    ]
    assert len(load_stored(index_dir).bulletins) == 2  # B2020 came back and B2022 was added


def test_recovery_drops_a_stale_previous_copy_and_leaves_other_indexes_alone(
    tmp_path, fake_embedder
):
    index_dir = tmp_path / "index"
    build([B2020], index_dir, fake_embedder)
    stale = previous_dir(index_dir)
    stale.mkdir()
    (stale / "manifest.json").write_text("{}", encoding="utf-8")
    other = tmp_path / "other.building-xyz"  # another index's build: not ours to touch
    other.mkdir()
    notes = recover_interrupted(index_dir)
    assert not stale.exists() and other.exists()
    assert notes == ["removed index.previous left by an interrupted swap"]
    assert recover_interrupted(index_dir) == []  # nothing left to do


# --- reports beside the index -----------------------------------------------


def test_every_update_saves_its_report_as_json_and_markdown(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    (tmp_path / "bad.txt").write_bytes(b"")
    report = build([B2020, B2022, tmp_path / "bad.txt"], index_dir, fake_embedder)
    folder = reports_dir_for(index_dir)
    saved = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
    assert report.saved_to and json.loads(open(report.saved_to, encoding="utf-8").read()) == saved
    assert saved["counts"] == {"added": 2, "failed": 1}
    assert saved["total_bulletins"] == 2 and saved["embedded"] == saved["total_chunks"] > 0
    by_name = {os.path.basename(f["path"]): f for f in saved["files"]}
    assert (
        by_name["bad.txt"]["status"] == "failed"
        and by_name["bad.txt"]["reason"] == "文件为空 / file is empty"
    )
    assert (
        by_name[B2020.name]["items"] == 5
        and by_name[B2020.name]["chunks"] == 6
        and by_name[B2020.name]["seconds"] > 0
    )
    # Embedding time is measured around the model only, apart from parsing and writing.
    assert saved["embed_seconds"] > 0 and saved["index_write_seconds"] > 0
    assert saved["parse_seconds"] == pytest.approx(sum(f["seconds"] for f in saved["files"]))
    assert saved["embedder"] == fake_embedder.id
    markdown = (folder / "latest.md").read_text(encoding="utf-8")
    assert "新增 2，失败 1" in markdown and "file is empty" in markdown and B2020.name in markdown

    # nothing changed: saved too, with its own name
    again = build([B2020, B2022], index_dir, fake_embedder)
    assert again.saved_to != report.saved_to
    assert json.loads((folder / "latest.json").read_text(encoding="utf-8"))["counts"] == {
        "unchanged": 2
    }


def test_old_reports_are_pruned_to_a_bounded_number(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    report = build([B2020], index_dir, fake_embedder, save_report=False)
    assert not reports_dir_for(index_dir).exists()
    paths = [save_report(report, keep=3) for _ in range(5)]
    folder = reports_dir_for(index_dir)
    kept = sorted(p.name for p in folder.glob("ingest-*.json"))
    assert kept == sorted(p.name for p in paths[-3:])
    assert len(list(folder.glob("ingest-*.md"))) == 3
    assert (folder / "latest.json").read_text(encoding="utf-8") == paths[-1].read_text(
        encoding="utf-8"
    )


def test_markdown_report_escapes_table_breaking_paths(tmp_path, fake_embedder):
    weird = tmp_path / "a|b.txt"
    weird.write_bytes(B2020.read_bytes())
    report = build([weird], tmp_path / "index", fake_embedder, save_report=False)
    row = [line for line in format_markdown(report).splitlines() if "a\\|b.txt" in line]
    assert len(row) == 1 and row[0].count(" | ") == 5  # still six cells


# --- progress lines when nobody watches a terminal --------------------------


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_lines_at_start_every_tenth_every_few_seconds_and_end():
    clock, out = Clock(), io.StringIO()
    lines = ProgressLines(interval=5.0, stream=out, clock=clock)
    for done in range(0, 101):  # parse: 100 files, quickly
        lines("parse", done, 100)
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("进度 progress: 解析 parse 0/100 files (0%)")
    assert [int(line.split()[4].split("/")[0]) for line in printed] == list(range(0, 101, 10))

    out.truncate(0), out.seek(0)
    for done in (0, 1, 2, 3):  # embed: slow batches, 2 s apart
        lines("embed", done, 1000)
        clock.now += 2.0
    lines("embed", 3, 1000)  # same count again: nothing new to say
    printed = out.getvalue().splitlines()
    assert [line.split()[4] for line in printed] == ["0/1000", "3/1000"]  # 3 came 6 s after 0
    assert printed[-1].endswith("(0%), 6 s, 0.5 passages/s")  # 3 passages in 6 s


def test_a_report_that_cannot_be_saved_does_not_undo_the_update(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    reports_dir_for(index_dir).write_text(
        "a file where the reports folder should be", encoding="utf-8"
    )
    report = build([B2020], index_dir, fake_embedder)
    assert report.saved_to is None and "could not save the report" in report.report_error
    assert len(load_stored(index_dir).bulletins) == 1


# --- BM25 tokens kept with the index ------------------------------------------


def test_adding_a_bulletin_segments_only_its_chunks_and_ranks_like_a_fresh_build(
    tmp_path, fake_embedder, monkeypatch
):
    import index.build as build_module
    from index.engine import SearchEngine

    index_dir = tmp_path / "index"
    build([B2020], index_dir, fake_embedder)
    segmented = []
    real_make_tokenizer = build_module.make_tokenizer

    def counting_tokenizer(name):
        tokenize = real_make_tokenizer(name)
        return lambda text: segmented.append(text) or tokenize(text)

    monkeypatch.setattr(build_module, "make_tokenizer", counting_tokenizer)
    build([B2022], index_dir, fake_embedder)
    stored = load_stored(index_dir)
    new_chunks = [c.embed_text for c in stored.chunks if c.doc_id == B2022.stem]
    # the 2020 bulletin's chunks were not segmented again
    assert sorted(segmented) == sorted(new_chunks)
    saved = [
        json.loads(line)
        for line in (index_dir / "bm25_tokens.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(saved) == len(stored.chunks) and all(saved)

    fresh_dir = tmp_path / "fresh"
    build([B2020, B2022], fresh_dir, fake_embedder)
    incremental, fresh = (
        SearchEngine.open(index_dir, embedder=fake_embedder),
        SearchEngine.open(fresh_dir, embedder=fake_embedder),
    )
    for query in ("大竹县 批示", "品读季 实施方案", "年鉴质量", "雅安"):
        assert [
            (h.chunk.chunk_id, round(h.score, 5)) for h in incremental.search(query, 5, "bm25")
        ] == [(h.chunk.chunk_id, round(h.score, 5)) for h in fresh.search(query, 5, "bm25")]
