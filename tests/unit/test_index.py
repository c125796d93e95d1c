"""Index build, load and incremental update, with the fake embedder (no model)."""

import json
import shutil

import pytest

from conftest import ALL, B2020, B2022, CONTRACT_KEYS
from index.build import update_index
from index.engine import SearchEngine, result_dict
from index.filters import Filters
from index.store import IndexMismatchError, IndexMissingError, load_stored


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "bulletins"
    folder.mkdir()
    for path in ALL:
        shutil.copy(path, folder / path.name)
    return folder


def build(paths, index_dir, embedder, **kw):
    return update_index(
        paths, index_dir, embedder=embedder, cache_path=index_dir.parent / "cache.sqlite", **kw
    )


def test_build_load_and_search(tmp_path, corpus, fake_embedder):
    index_dir = tmp_path / "index"
    report = build([corpus], index_dir, fake_embedder)
    assert report.changed and not report.failed
    assert [f.status for f in report.files] == ["added"] * 5
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == 1
    assert manifest["embedder"]["id"] == fake_embedder.id and manifest["embedder"]["dim"] == 64
    assert manifest["pipeline"]["tokenizer"] == "jieba"
    assert manifest["counts"]["bulletins"] == 5 and len(manifest["files"]) == 5
    assert all(len(meta["sha256"]) == 64 for meta in manifest["files"].values())

    stored = load_stored(index_dir)
    assert stored.faiss_index.ntotal == len(stored.chunks) == manifest["counts"]["chunks"]
    engine = SearchEngine.open(index_dir, embedder=fake_embedder)
    for mode in ("bm25", "dense", "hybrid"):
        hits = engine.search("达州 年鉴质量", 3, mode)
        assert hits, mode
        result = result_dict(hits[0], 1)
        assert CONTRACT_KEYS <= set(result)
        bulletin = engine.bulletin(result["doc_id"])
        assert bulletin["text_clean"][result["start"] : result["end"]] == result["text"]
    assert engine.search("达州 年鉴质量", 1, "bm25")[0].chunk.meta.cities == ("达州市",)


def test_filters_city_includes_counties_date_and_section(tmp_path, corpus, fake_embedder):
    index_dir = tmp_path / "index"
    build([corpus], index_dir, fake_embedder)
    engine = SearchEngine.open(index_dir, embedder=fake_embedder)
    hits = engine.search("地方志工作批示", 10, "hybrid", Filters(cities=("达州市",)))
    assert hits and all("达州市" in h.chunk.meta.cities for h in hits)
    # county counts for its city
    assert any("大竹县" in " ".join(h.chunk.meta.places) for h in hits)
    hits = engine.search("年鉴", 20, "bm25", Filters(date_from="2024-01-01", date_to="2024-12-31"))
    assert hits and all(h.chunk.meta.date == "2024-03-13" for h in hits)
    hits = engine.search("年鉴", 20, "dense", Filters(sections=("特别关注",)))
    assert hits and all(h.chunk.meta.section == "特别关注" for h in hits)
    assert engine.search("年鉴", 5, "hybrid", Filters(cities=("眉山市",))) == []


def test_reingest_unchanged_embeds_and_rewrites_nothing(tmp_path, corpus, fake_embedder):
    index_dir = tmp_path / "index"
    build([corpus], index_dir, fake_embedder)
    before = (index_dir / "manifest.json").stat().st_mtime_ns
    embedded = fake_embedder.passages_embedded
    report = build([corpus], index_dir, fake_embedder)
    assert not report.changed
    assert [f.status for f in report.files] == ["unchanged"] * 5
    assert fake_embedder.passages_embedded == embedded
    assert (index_dir / "manifest.json").stat().st_mtime_ns == before


def test_incremental_add_change_remove(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(B2020, folder / "a.txt")
    index_dir = tmp_path / "index"
    build([folder], index_dir, fake_embedder)
    first = fake_embedder.passages_embedded

    shutil.copy(B2022, folder / "b.txt")  # add
    report = build([folder], index_dir, fake_embedder)
    assert {f.path.split("/")[-1]: f.status for f in report.files} == {
        "a.txt": "unchanged",
        "b.txt": "added",
    }
    added_chunks = load_stored(index_dir).manifest["files"][str((folder / "b.txt").resolve())][
        "chunks"
    ]
    # only the new file was embedded: its passages, and its sentences for replies
    assert report.embedded == added_chunks and report.sentences_embedded > 0
    assert fake_embedder.passages_embedded - first == added_chunks + report.sentences_embedded

    text = (folder / "a.txt").read_text(encoding="utf-8")  # change
    (folder / "a.txt").write_text(
        text.replace("宋开慧对雅安市地方志工作提出新要求", "宋开慧对雅安市史志工作提出新要求"),
        encoding="utf-8",
    )
    report = build([folder], index_dir, fake_embedder)
    assert {f.path.split("/")[-1]: f.status for f in report.files} == {
        "a.txt": "updated",
        "b.txt": "unchanged",
    }
    titles = {c.meta.title for c in load_stored(index_dir).chunks}
    assert (
        "宋开慧对雅安市史志工作提出新要求" in titles
        and "宋开慧对雅安市地方志工作提出新要求" not in titles
    )

    (folder / "b.txt").unlink()  # remove
    report = build([folder], index_dir, fake_embedder)
    assert "removed" in [f.status for f in report.files]
    assert {c.doc_id for c in load_stored(index_dir).chunks} == {"a"}


def test_files_given_separately_accumulate(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    build([B2020], index_dir, fake_embedder)
    report = build([B2022], index_dir, fake_embedder)
    assert sorted(f.status for f in report.files) == ["added", "kept"]
    assert len(load_stored(index_dir).bulletins) == 2


def test_kept_bulletins_are_not_re_embedded_when_the_cache_is_gone(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    first = build([B2020], index_dir, fake_embedder)
    (index_dir.parent / "cache.sqlite").unlink()  # an index copied without its cache, say
    before = load_stored(index_dir)
    report = build([B2022], index_dir, fake_embedder)
    added = next(f for f in report.files if f.status == "added")
    assert report.embedded == added.chunks and first.embedded == before.faiss_index.ntotal
    after = load_stored(index_dir)
    kept = {
        c.chunk_id: i for i, c in enumerate(after.chunks) if c.doc_id == before.chunks[0].doc_id
    }
    for row, chunk in enumerate(before.chunks):
        assert (
            after.faiss_index.reconstruct(kept[chunk.chunk_id])
            == before.faiss_index.reconstruct(row)
        ).all()


def test_bad_files_reported_by_name_and_the_rest_indexed(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(B2020, folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.txt").write_bytes(b"\x00\x01\x02" * 300)
    (folder / "gbk.txt").write_bytes(B2022.read_text(encoding="utf-8").encode("gbk"))
    index_dir = tmp_path / "index"
    report = build([folder, tmp_path / "missing.txt"], index_dir, fake_embedder)
    status = {f.path.split("/")[-1]: (f.status, f.reason) for f in report.files}
    assert status["good.txt"][0] == "added" and status["gbk.txt"][0] == "added"
    assert status["empty.txt"] == ("failed", "文件为空 / file is empty")
    assert status["junk.txt"][0] == "failed" and "binary" in status["junk.txt"][1]
    assert status["missing.txt"] == ("failed", "文件或文件夹不存在 / no such file or folder")
    assert len(load_stored(index_dir).bulletins) == 2


def test_duplicate_content_indexed_once(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(B2020, folder / "a.txt")
    shutil.copy(B2020, folder / "copy of a.txt")
    report = build([folder], tmp_path / "index", fake_embedder)
    assert sorted(f.status for f in report.files) == ["added", "duplicate"]


def test_missing_and_mismatched_index_name_the_rebuild_command(tmp_path, corpus, fake_embedder):
    with pytest.raises(IndexMissingError, match="python -m ingest"):
        SearchEngine.open(tmp_path / "nowhere", embedder=fake_embedder)
    index_dir = tmp_path / "index"
    build([corpus], index_dir, fake_embedder)
    from fakes import FakeEmbedder

    with pytest.raises(IndexMismatchError, match="rebuild it with: python -m ingest --rebuild"):
        SearchEngine.open(index_dir, embedder=FakeEmbedder(dim=32))
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["schema_version"] = 99
    (index_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="schema version 99"):
        SearchEngine.open(index_dir, embedder=fake_embedder)


def test_failed_build_leaves_previous_index_usable(tmp_path, corpus, fake_embedder, monkeypatch):
    index_dir = tmp_path / "index"
    build([B2020], index_dir, fake_embedder)
    import index.store as store

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "swap_in", crash)
    with pytest.raises(RuntimeError):
        build([corpus], index_dir, fake_embedder)
    assert len(load_stored(index_dir).bulletins) == 1  # the old one still loads
    assert not [p for p in tmp_path.iterdir() if ".building-" in p.name]  # temp dir cleaned up


def test_reader_survives_the_swap_moment(tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    build([B2020], index_dir, fake_embedder)
    # As if a crash happened between the two renames of a swap.
    index_dir.rename(tmp_path / "index.previous")
    assert len(load_stored(index_dir).bulletins) == 1
