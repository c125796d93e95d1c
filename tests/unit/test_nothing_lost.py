"""Nothing indexed is lost: damaged indexes are named and repaired, unreachable files keep
their indexed version, read-only folders are refused, the app never builds over a user's index.

Real files and real index folders throughout, with the fake embedder (no model)."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import ALL, B2020, B2022
from index.build import update_index
from index.engine import SearchEngine
from index.store import IndexDamagedError, IndexMismatchError, IndexWriteError, load_stored


@pytest.fixture
def share(tmp_path):
    """The bulletins in a folder inside a 'share' (mount point) folder, as offices keep them."""
    folder = tmp_path / "share" / "简报"
    folder.mkdir(parents=True)
    for path in ALL:
        shutil.copy(path, folder / path.name)
    return folder


def build(paths, index_dir, embedder, **kw):
    return update_index(
        paths, index_dir, embedder=embedder, cache_path=index_dir.parent / "cache.sqlite", **kw
    )


def passages(index_dir: Path) -> dict[str, str]:
    return {c.chunk_id: c.text for c in load_stored(index_dir).chunks}


def statuses(report) -> dict[str, str]:
    return {Path(f.path).name: f.status for f in report.files}


# --- the web app never builds the sample over a user's folder ---------------------------


def test_app_builds_the_sample_only_into_an_empty_or_absent_folder(tmp_path, monkeypatch):
    import app

    built = []
    monkeypatch.setattr(
        "index.build.update_index", lambda paths, index_dir: built.append(index_dir)
    )

    class Opened(Exception):
        pass

    def open_index(index_dir, llm=None):
        if not built:
            from index.store import load_stored

            load_stored(index_dir)
        raise Opened

    monkeypatch.setattr("chat.service.Assistant.open", staticmethod(open_index))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(Opened):
        app.open_or_build_sample(empty, None)
    assert built == [empty]
    built.clear()
    other = tmp_path / "someone-elses-folder"
    other.mkdir()
    (other / "notes.txt").write_text("not an index", encoding="utf-8")
    with pytest.raises(IndexDamagedError, match="manifest.json"):
        app.open_or_build_sample(other, None)
    assert built == [] and (other / "notes.txt").exists()


# --- files that cannot be read today keep their indexed version ----------------------------


def test_missing_share_keeps_its_bulletins(tmp_path, share, fake_embedder):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    kept = passages(index_dir)
    unmounted = tmp_path / "elsewhere"
    shutil.move(str(tmp_path / "share"), unmounted)  # the share is not mounted today

    report = build([share], index_dir, fake_embedder)
    assert passages(index_dir) == kept
    assert report.failed and all(f.status in ("failed", "unavailable") for f in report.files)
    assert sorted(statuses(report).values()).count("unavailable") == 5
    assert all("共享盘未挂载" in f.reason for f in report.files if f.status == "unavailable")

    # another folder given
    report = build([tmp_path / "other-folder-that-exists"], index_dir, fake_embedder)
    assert passages(index_dir) == kept and "removed" not in statuses(report).values()


def test_empty_mount_point_keeps_and_prune_removes(tmp_path, share, fake_embedder):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    for path in share.iterdir():
        path.unlink()  # an empty mount point looks like this
    report = build([share], index_dir, fake_embedder)
    assert (
        list(statuses(report).values()).count("unavailable") == 5
        and len(load_stored(index_dir).bulletins) == 5
    )
    report = build([share], index_dir, fake_embedder, prune=True)
    assert list(statuses(report).values()).count("removed") == 5
    assert not load_stored(index_dir).chunks


def test_file_really_gone_from_a_folder_that_is_there_is_removed(tmp_path, share, fake_embedder):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    (share / B2020.name).unlink()
    report = build([share], index_dir, fake_embedder)
    assert statuses(report)[B2020.name] == "removed" and not report.failed
    assert len(load_stored(index_dir).bulletins) == 4


def test_unreadable_bulletin_keeps_its_indexed_version(tmp_path, share, fake_embedder):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    kept = passages(index_dir)
    (share / B2022.name).write_bytes(b"\x00\x01binary junk" * 100)  # overwritten by a broken copy
    (share / B2020.name).write_bytes(b"")  # truncated to nothing
    report = build([share], index_dir, fake_embedder)
    by_name = {Path(f.path).name: f for f in report.files}
    assert (
        by_name[B2022.name].status == "unavailable"
        and "保留上次索引的内容" in by_name[B2022.name].reason
    )
    assert by_name[B2020.name].status == "unavailable" and "文件为空" in by_name[B2020.name].reason
    assert passages(index_dir) == kept


# --- a read-only index folder is refused up front ---------------------------------------------


def test_read_only_index_folder_is_refused_and_left_as_it_was(tmp_path, share, fake_embedder):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    (share / "new.txt").write_text(
        B2020.read_text(encoding="utf-8").replace("2020", "2019"), encoding="utf-8"
    )
    index_dir.chmod(0o555)
    try:
        with pytest.raises(IndexWriteError, match="read-only") as err:
            build([share], index_dir, fake_embedder)
        assert str(index_dir) in str(err.value)
        assert not (tmp_path / "index.previous").exists()
        assert len(load_stored(index_dir).bulletins) == 5
    finally:
        index_dir.chmod(0o755)
    # later ingests work as soon as it is writable
    report = build([share], index_dir, fake_embedder)
    assert statuses(report)["new.txt"] == "added"


def test_disk_full_names_the_path_and_keeps_the_index(tmp_path, share, fake_embedder, monkeypatch):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    kept = passages(index_dir)
    (share / "new.txt").write_text(
        B2020.read_text(encoding="utf-8").replace("2020", "2019"), encoding="utf-8"
    )
    import index.store

    def full(path, *rows):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(index.store, "write_jsonl", full)
    monkeypatch.setattr(index.store, "RowsWriter", full)  # chunks.jsonl, the first file written
    with pytest.raises(
        IndexWriteError, match="磁盘空间不足 / no space left on device: .*chunks.jsonl"
    ):
        build([share], index_dir, fake_embedder)
    monkeypatch.undo()
    assert passages(index_dir) == kept
    assert not [p for p in tmp_path.iterdir() if ".building-" in p.name]


# --- damaged indexes are named, and repaired without re-embedding ---------------------------


def damage_faiss(index_dir: Path) -> None:
    data = (index_dir / "faiss.index").read_bytes()
    (index_dir / "faiss.index").write_bytes(data[: len(data) // 2])


def damage_chunks(index_dir: Path) -> None:
    lines = (index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    lines[7] = '{"chunk_id": "garbage'
    (index_dir / "chunks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def damage_bm25(index_dir: Path) -> None:
    shutil.rmtree(index_dir / "bm25")


def damage_manifest(index_dir: Path) -> None:
    (index_dir / "manifest.json").unlink()


@pytest.mark.parametrize(
    "damage, named",
    [
        (damage_faiss, "faiss.index"),
        (damage_chunks, "chunks.jsonl"),
        (damage_bm25, "bm25"),
        (damage_manifest, "manifest.json"),
    ],
)
def test_damage_is_named_and_repaired_without_re_embedding(
    tmp_path, share, fake_embedder, damage, named
):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    before = passages(index_dir)
    engine = SearchEngine.open(index_dir, embedder=fake_embedder)
    expected = [h.chunk.chunk_id for h in engine.search("达州 年鉴 质量", k=5)]
    damage(index_dir)

    with pytest.raises(IndexDamagedError) as err:
        SearchEngine.open(index_dir, embedder=fake_embedder)
    message = str(err.value)
    assert (
        named in message
        and "python -m ingest --repair --index" in message
        and "data/bulletins" not in message
    )

    embedded_before = fake_embedder.passages_embedded
    report = build([], index_dir, fake_embedder)
    assert report.repaired and any(named in note for note in report.repaired)
    assert fake_embedder.passages_embedded == embedded_before  # vectors came from the cache
    assert passages(index_dir) == before
    engine = SearchEngine.open(index_dir, embedder=fake_embedder)
    assert [h.chunk.chunk_id for h in engine.search("达州 年鉴 质量", k=5)] == expected


def test_repair_from_the_index_alone_when_the_cache_is_lost(tmp_path, share, fake_embedder):
    """A garbage line in chunks.jsonl, and no embedding cache: the readable rows' vectors
    come from faiss.index; the damaged bulletin is parsed again from its file, and only
    the passage whose line was garbage (its text unknown until then) is embedded again."""
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    before = passages(index_dir)
    damage_chunks(index_dir)
    (tmp_path / "cache.sqlite").unlink()
    embedded_before = fake_embedder.passages_embedded
    report = build([], index_dir, fake_embedder)
    assert fake_embedder.passages_embedded == embedded_before + 1
    assert passages(index_dir) == before and report.repaired


def test_damaged_passages_of_a_bulletin_whose_file_is_gone_keep_the_rest(
    tmp_path, share, fake_embedder
):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    before = passages(index_dir)
    damage_chunks(index_dir)
    lost = json.loads((index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()[6])[
        "doc_id"
    ]
    shutil.rmtree(share)  # and the share is not mounted: the bulletin cannot be parsed again
    report = build([], index_dir, fake_embedder)
    after = passages(index_dir)
    assert len(after) == len(before) - 1 and set(after) < set(before)
    assert any(f.doc_id == lost and f.status == "unavailable" for f in report.files)


def test_repair_of_an_intact_index_changes_nothing(tmp_path, share, fake_embedder):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    report = build([], index_dir, fake_embedder)
    assert not report.repaired and not report.changed
    assert json.loads((index_dir / "manifest.json").read_text(encoding="utf-8")) == manifest


def test_schema_mismatch_hint_rebuilds_the_files_the_index_lists(tmp_path, share, fake_embedder):
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["schema_version"] = 0
    manifest.pop("checksums")
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError) as err:
        load_stored(index_dir)
    assert f"python -m ingest --rebuild --index {index_dir}" in str(
        err.value
    ) and "data/bulletins" not in str(err.value)
    report = build([], index_dir, fake_embedder, rebuild=True)
    assert sorted(statuses(report).values()) == ["updated"] * 5
    assert len(load_stored(index_dir).bulletins) == 5


# --- what is in a scanned folder and not indexed is said -------------------------------------


def test_unsupported_files_are_listed_as_skipped(tmp_path, share, fake_embedder):
    for name in ("预算.xlsx", "旧简报.rtf", "简报合集.zip", "Thumbs.db", "~$草稿.docx"):
        (share / name).write_bytes(b"PK\x03\x04 not really")
    (share / ".hidden.xlsx").write_bytes(b"x")
    report = build([share], tmp_path / "index", fake_embedder)
    skipped = {Path(f.path).name: f.reason for f in report.files if f.status == "skipped"}
    assert set(skipped) == {"预算.xlsx", "旧简报.rtf"}
    assert "表格" in skipped["预算.xlsx"] and ".docx" in skipped["旧简报.rtf"]
    assert [(Path(f.path).name, f.status) for f in report.failed] == [("简报合集.zip", "failed")]
    assert "ZIP" in report.failed[0].reason


def test_empty_pdf_says_the_file_is_empty(tmp_path, fake_embedder):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "scan.pdf").write_bytes(b"")
    report = build([tmp_path / "in"], tmp_path / "index", fake_embedder)
    assert [(f.status, f.reason) for f in report.files] == [("failed", "文件为空 / file is empty")]


@pytest.mark.skipif(
    os.geteuid() != 0, reason="chmod 000 only hides a file from others when not root"
)
def test_permission_error_on_reports_names_the_path(tmp_path, share, fake_embedder):
    """A reports folder that cannot be written never undoes an update, and says where."""
    index_dir = tmp_path / "index"
    reports = tmp_path / "index.reports"
    reports.write_text("a file where the folder should be", encoding="utf-8")
    report = build([share], index_dir, fake_embedder)
    assert report.report_error and "index.reports" in report.report_error
    assert len(load_stored(index_dir).bulletins) == 5


# --- a .zip of bulletins -------------------------------------------------------------------


def write_zip(path: Path, members: dict[str, bytes], gbk_names: bool = False) -> Path:
    import zipfile

    class GbkName(zipfile.ZipInfo):
        """Names in GBK without the UTF-8 flag, as Windows' "send to compressed folder" writes
        them."""

        def _encodeFilenameFlags(self):
            return self.filename.encode("gbk"), self.flag_bits

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = GbkName(name) if gbk_names else zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def test_zip_members_are_indexed_one_by_one(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    members = {f"2024/第{n}期.txt": path.read_bytes() for n, path in enumerate(ALL[:3], start=1)}
    members["说明.xlsx"] = b"PK not a bulletin"
    members["../../escape.txt"] = ALL[3].read_bytes()
    write_zip(folder / "简报合集.zip", members, gbk_names=True)
    report = build([folder], tmp_path / "index", fake_embedder)
    by_key = {f.path: f for f in report.files}
    zipped = folder / "简报合集.zip"
    assert [by_key[f"{zipped}/2024/第{n}期.txt"].status for n in (1, 2, 3)] == ["added"] * 3
    assert by_key[f"{zipped}/说明.xlsx"].status == "skipped"
    assert any("不安全" in f.reason for f in report.files if f.status == "failed")
    assert not (tmp_path / "escape.txt").exists()
    stored = load_stored(tmp_path / "index")
    assert sorted(b["path"] for b in stored.bulletins.values()) == sorted(
        f"{zipped}/2024/第{n}期.txt" for n in (1, 2, 3)
    )

    # Unchanged archive: nothing re-parsed; a member taken out of the archive leaves the index.
    report = build([folder], tmp_path / "index", fake_embedder)
    assert (
        sorted(f.status for f in report.files if f.path.endswith(".txt") and "escape" not in f.path)
        == ["unchanged"] * 3
    )
    del members["2024/第3期.txt"]
    write_zip(zipped, members, gbk_names=True)
    report = build([folder], tmp_path / "index", fake_embedder)
    assert {f.path: f.status for f in report.files}[f"{zipped}/2024/第3期.txt"] == "removed"
    assert len(load_stored(tmp_path / "index").bulletins) == 2


def test_damaged_zip_keeps_its_indexed_members(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    zipped = write_zip(folder / "a.zip", {"x.txt": B2020.read_bytes(), "y.txt": B2022.read_bytes()})
    build([folder], tmp_path / "index", fake_embedder)
    zipped.write_bytes(zipped.read_bytes()[:100])  # a broken copy
    report = build([folder], tmp_path / "index", fake_embedder)
    assert {f.path: f.status for f in report.files}[str(zipped)] == "failed"
    assert len(load_stored(tmp_path / "index").bulletins) == 2


def test_zip_bomb_member_is_refused_by_the_size_limit(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    write_zip(folder / "bomb.zip", {"big.txt": b"0" * (3 * 2**20), "ok.txt": B2020.read_bytes()})
    report = build([folder], tmp_path / "index", fake_embedder, max_file_mb=1)
    status = {Path(f.path).name: (f.status, f.reason) for f in report.files}
    assert status["big.txt"][0] == "failed" and "文件过大" in status["big.txt"][1]
    assert status["ok.txt"][0] == "added"
