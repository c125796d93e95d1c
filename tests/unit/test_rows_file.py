"""Passages and bulletins read one row at a time (issue 12): the same index as reading them
whole, an index written before the row files still opens, and opening checks a big file by
its first and last MiB."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import index.store
from index.engine import SearchEngine
from index.filters import FilterColumns, Filters
from index.rows_file import RecordsFile, RowsFile, offsets_path, save_offsets, write_rows
from index.store import (
    CHECKSUMS,
    COLUMNS,
    IndexDamagedError,
    load_stored,
    verify_checksums,
)


def test_rows_file_reads_each_row_and_keeps_the_old_file_after_a_swap(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [{"n": i, "text": "达州" * i} for i in range(50)]
    save_offsets(path, write_rows(path, rows))
    reader = RowsFile(path, np.load(offsets_path(path)), dict, cache_rows=4)
    assert len(reader) == 50 and reader[7] == rows[7] and reader[-1] == rows[-1]
    assert reader[3:6] == rows[3:6] and list(reader) == rows
    with pytest.raises(IndexError):
        reader[50]
    # an update replaces the file: this reader still reads the version it opened
    new = tmp_path / "new.jsonl"
    write_rows(new, [{"n": -1}] * 50)
    os.replace(new, path)
    assert reader[20] == rows[20]
    records = RecordsFile(reader, [f"doc{i}" for i in range(50)])
    assert records["doc9"] == rows[9] and "doc49" in records and "doc50" not in records
    assert len(records) == 50 and list(records.values()) == rows


def test_offsets_that_do_not_match_the_file_are_refused(tmp_path):
    path = tmp_path / "rows.jsonl"
    offsets = write_rows(path, [{"n": 1}, {"n": 2}])
    with open(path, "ab") as handle:
        handle.write(b'{"n": 3}\n')
    with pytest.raises(ValueError, match="does not match"):
        RowsFile(path, offsets, dict, cache_rows=4)


@pytest.fixture
def built(fake_index):
    return fake_index


def as_before_the_row_files(index_dir, target):
    """The same index as an earlier version wrote it: no offsets, no columns."""
    shutil.copytree(index_dir, target)
    dropped = [COLUMNS, "chunks.offsets.npy", "bulletins.offsets.npy"]
    for name in dropped:
        (target / name).unlink()
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    for name in dropped:
        del manifest[CHECKSUMS][name]
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    return target


def test_an_index_read_by_row_equals_one_read_whole(built, tmp_path):
    index_dir, embedder = built
    by_row = load_stored(index_dir)
    whole = load_stored(as_before_the_row_files(index_dir, tmp_path / "old"))
    assert isinstance(by_row.chunks, RowsFile) and isinstance(whole.chunks, list)
    assert list(by_row.chunks) == whole.chunks
    assert [by_row.chunks[i] for i in range(len(whole.chunks))] == whole.chunks
    assert dict(by_row.bulletins) == whole.bulletins
    assert by_row.bulletin_dates == whole.bulletin_dates
    saved, rebuilt = by_row.columns.arrays(), FilterColumns.of(whole.chunks).arrays()
    assert saved.keys() == rebuilt.keys()
    assert all(np.array_equal(saved[key], rebuilt[key]) for key in saved)
    for chunk in whole.chunks[::7]:
        assert by_row.row_of(chunk.chunk_id) == whole.row_of(chunk.chunk_id)
        assert whole.chunks[by_row.row_of(chunk.chunk_id)] == chunk
    assert by_row.row_of("nosuchdoc#0") is None and by_row.row_of(chunk.doc_id + "#999") is None

    new, old = SearchEngine.open(index_dir, embedder), SearchEngine.open(tmp_path / "old", embedder)
    assert new.indexed_places == old.indexed_places and new.sections == old.sections
    assert new.newest_bulletin_date == old.newest_bulletin_date
    for filters in (None, Filters(cities=("达州市",)), Filters(date_from="2024-01-01")):
        for mode in ("bm25", "dense", "hybrid"):
            assert new.search("达州 年鉴质量", 5, mode, filters) == old.search(
                "达州 年鉴质量", 5, mode, filters
            )


def test_opening_checks_a_big_file_by_its_ends(built, tmp_path, monkeypatch):
    """Past SAMPLE_OVER bytes, opening hashes the first and last MiB: damage there is named on
    opening; damage in the middle is found by the whole-file check (--repair)."""
    monkeypatch.setattr(index.store, "SAMPLE_OVER", 1000)
    monkeypatch.setattr(index.store, "SAMPLE_BYTES", 100)
    copy = tmp_path / "index"
    shutil.copytree(built[0], copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest[CHECKSUMS] = index.store.file_checksums(copy)  # sampled at the patched size
    assert "sample_sha256" in manifest[CHECKSUMS]["chunks.jsonl"]
    (copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    chunks = copy / "chunks.jsonl"
    data = bytearray(chunks.read_bytes())
    middle = len(data) // 2
    data[middle] = ord("#") if data[middle] != ord("#") else ord("$")
    chunks.write_bytes(bytes(data))
    stored = load_stored(copy)  # the middle is not read on opening ...
    with pytest.raises(IndexDamagedError, match="chunks.jsonl 第.*行无法读取.*--repair"):
        list(stored.chunks)  # ... but reading its row names the damage and the repair
    assert verify_checksums(copy, manifest) == [
        "chunks.jsonl 内容被改动 / content differs from what was written"
    ]
    data[10] = ord("#") if data[10] != ord("#") else ord("$")
    chunks.write_bytes(bytes(data))
    with pytest.raises(IndexDamagedError, match="chunks.jsonl"):
        load_stored(copy)
