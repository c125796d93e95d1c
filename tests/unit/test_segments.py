"""Updates in segments (index/segments.py): added bulletins go into a segment beside the
base instead of a rewrite, read back as one index that answers like a rewritten one; a segment
is published atomically, tidied when unpublished, merged past its limits and repaired when
damaged. Small indexes are put in segment mode through $BULLETIN_SEGMENT_OVER / _SHARE."""

import errno
import json

import bm25s
import numpy as np
import pytest

from answer.ask import ask
from chat.service import IndexWatcher
from conftest import ALL, B2020, B2022, B2023, B2024, BUNDATED
from index.bm25_segments import K1, B, SegmentedBM25, lucene_idf
from index.build import update_index
from index.engine import SearchEngine
from index.filters import FilterColumns, Filters
from index.stacked import StackedMatrix, StackedRows
from index.store import SEGMENTS, IndexDamagedError, IndexWriteError, load_stored, read_tokens

FIRST_FOUR = [B2020, B2022, B2023, BUNDATED]
QUESTIONS = [
    "大竹县 批示",
    "达州在年鉴质量方面做了什么决定?",
    "哪些市州印发了品读季实施方案?",
    "方志馆建设",
    "What did Dazhou decide on yearbook quality?",
    "2024年 地方志 工作会议",
]


def build(paths, index_dir, embedder, **kw):
    return update_index(
        paths, index_dir, embedder=embedder, cache_path=index_dir.parent / "cache.sqlite", **kw
    )


@pytest.fixture
def segment_mode(monkeypatch):
    """Any index takes added bulletins as segments, up to as many passages as its base."""
    monkeypatch.setenv("BULLETIN_SEGMENT_OVER", "0")
    monkeypatch.setenv("BULLETIN_SEGMENT_SHARE", "1")


@pytest.fixture
def segmented(tmp_path, fake_embedder, segment_mode):
    """Three bulletins written whole, then two added one at a time: two segments."""
    index_dir = tmp_path / "segmented"
    build([B2020, B2022, B2023], index_dir, fake_embedder)
    build([B2020, B2022, B2023, BUNDATED], index_dir, fake_embedder)
    build(ALL, index_dir, fake_embedder)
    return index_dir


@pytest.fixture
def whole(tmp_path, fake_embedder):
    """The same five bulletins written whole."""
    index_dir = tmp_path / "whole"
    build(ALL, index_dir, fake_embedder)
    return index_dir


def ids(hits):
    return [h.chunk.chunk_id for h in hits]


def test_adding_bulletins_writes_segments_and_leaves_the_base_untouched(
    tmp_path, fake_embedder, segment_mode
):
    index_dir = tmp_path / "index"
    build(FIRST_FOUR, index_dir, fake_embedder)
    base_files = {p.name: p.read_bytes() for p in index_dir.iterdir() if p.is_file()}
    base_files.pop("manifest.json")

    report = build([*FIRST_FOUR, B2024], index_dir, fake_embedder)

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert report.segment == manifest[SEGMENTS][0]["name"]
    assert [s["rows"] for s in manifest[SEGMENTS]] == [report.files[-1].chunks]
    assert report.counts == {"unchanged": 4, "added": 1}
    assert (report.total_bulletins, report.total_chunks) == (5, manifest["counts"]["chunks"])
    kept = {p.name: p.read_bytes() for p in index_dir.iterdir() if p.name in base_files}
    assert kept == base_files
    assert sorted(p.name for p in (index_dir / SEGMENTS).iterdir()) == [report.segment]
    stored = load_stored(index_dir)
    assert len(stored.bulletins) == 5 and len(stored.chunks) == manifest["counts"]["chunks"]
    # the kept bulletins' passages were neither re-embedded nor re-read to be rewritten
    assert report.embedded == report.files[-1].chunks


def test_a_segmented_index_answers_like_one_written_whole(segmented, whole, fake_embedder):
    a = SearchEngine.open(segmented, embedder=fake_embedder)
    b = SearchEngine.open(whole, embedder=fake_embedder)
    assert len(a.stored.segments) == 2
    assert set(a.stored.bulletins) == set(b.stored.bulletins)
    assert a.indexed_cities == b.indexed_cities and a.sections == b.sections
    assert a.newest_bulletin_date == b.newest_bulletin_date
    filters = [None, Filters(cities=("达州市",)), Filters(date_from="2023-01-01")]
    for question in QUESTIONS:
        for mode in ("bm25", "dense", "hybrid"):
            for only in filters:
                got, want = a.search(question, 5, mode, only), b.search(question, 10, mode, only)
                # dense: the same cosines; BM25 and so hybrid differ by the average passage
                # length only (the base's, 4% short of the whole's here), which may swap two
                # near-equal passages
                assert_as_good(got, want, 1e-5 if mode == "dense" else 0.05, (question, only))
        assert_as_good(ask(a, question).hits, ask(b, question, k=10).hits, 0.05, question)


def assert_as_good(got, want, rel, context, k=5):
    """got (top k) ranks what `want` (the whole index's top 2k) ranks as well, place by place."""
    scores = {h.chunk.chunk_id: h.score for h in want}
    assert len(got) == min(k, len(want)), context
    for place, (hit, expected) in enumerate(zip(got, want)):
        assert hit.chunk.chunk_id in scores, (context, place)
        score = scores[hit.chunk.chunk_id]
        assert score == pytest.approx(expected.score, rel=rel), (context, place)


def test_a_segmented_index_reads_every_row_like_one_index(segmented):
    stored = load_stored(segmented)
    chunk_ids = [c.chunk_id for c in stored.chunks]
    assert len(set(chunk_ids)) == len(chunk_ids) == stored.faiss_index.ntotal
    assert all(stored.row_of(chunk_id) == row for row, chunk_id in enumerate(chunk_ids))
    assert stored.columns.size == len(chunk_ids) == len(read_tokens(stored))
    for doc_id, bulletin in stored.bulletins.items():
        assert bulletin["doc_id"] == doc_id and stored.bulletin_dates[doc_id] == bulletin["date"]
    # every passage's exact vector is where its row says (the flat index grew by the segments)
    vectors = np.asarray(stored.vectors)
    assert vectors.shape == (len(chunk_ids), stored.faiss_index.d)
    found = stored.faiss_index.search(vectors[-3:], 1)[1][:, 0]
    assert found.tolist() == [len(chunk_ids) - 3, len(chunk_ids) - 2, len(chunk_ids) - 1]
    assert len(stored.sentences) > 0


def test_segments_merge_when_they_pass_their_share_or_the_update_changes_a_bulletin(
    tmp_path, fake_embedder, segment_mode, monkeypatch
):
    folder = tmp_path / "bulletins"
    folder.mkdir()
    index_dir = tmp_path / "index"
    for path in FIRST_FOUR:
        (folder / path.name).write_bytes(path.read_bytes())
    build([folder], index_dir, fake_embedder)
    (folder / B2024.name).write_bytes(B2024.read_bytes())
    assert build([folder], index_dir, fake_embedder).segment is not None

    # a changed bulletin: the whole index is rewritten, the segment merged in
    changed = folder / B2020.name
    changed.write_text(changed.read_text(encoding="utf-8") + "\n补记：本期另附说明。\n", "utf-8")
    report = build([folder], index_dir, fake_embedder)
    assert report.segment is None and report.counts["updated"] == 1
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert SEGMENTS not in manifest and not (index_dir / SEGMENTS).exists()
    assert len(load_stored(index_dir).bulletins) == 5

    # more than the share of the base: merged as it is added
    (folder / B2024.name).unlink()
    build([folder], index_dir, fake_embedder)
    monkeypatch.setenv("BULLETIN_SEGMENT_SHARE", "0.01")
    (folder / B2024.name).write_bytes(B2024.read_bytes())
    report = build([folder], index_dir, fake_embedder)
    assert report.segment is None and not (index_dir / SEGMENTS).exists()
    assert len(load_stored(index_dir).bulletins) == 5


def test_merge_on_request_writes_one_index_that_answers_the_same(segmented, fake_embedder):
    before = SearchEngine.open(segmented, embedder=fake_embedder)
    asked = {q: ids(before.search(q, 5, "dense")) for q in QUESTIONS}

    report = build([], segmented, fake_embedder, merge=True)  # python -m ingest --merge

    assert report.changed and report.segment is None and report.embedded == 0
    assert report.counts == {"kept": 5}
    assert not (segmented / SEGMENTS).exists()
    after = SearchEngine.open(segmented, embedder=fake_embedder)
    assert not after.stored.segments and len(after.stored.bulletins) == 5
    assert {q: ids(after.search(q, 5, "dense")) for q in QUESTIONS} == asked
    assert not build([], segmented, fake_embedder, merge=True).changed  # nothing left to merge


def test_a_small_index_is_written_whole_by_default(tmp_path, fake_embedder, monkeypatch):
    monkeypatch.delenv("BULLETIN_SEGMENT_OVER", raising=False)
    index_dir = tmp_path / "index"
    build(FIRST_FOUR, index_dir, fake_embedder)
    assert build(ALL, index_dir, fake_embedder).segment is None
    assert not (index_dir / SEGMENTS).exists()


def test_a_writer_killed_before_publishing_leaves_the_previous_version_and_is_tidied(
    tmp_path, fake_embedder, segment_mode
):
    index_dir = tmp_path / "index"
    build(FIRST_FOUR, index_dir, fake_embedder)
    published = (index_dir / "manifest.json").read_bytes()
    build(ALL, index_dir, fake_embedder)
    # what a kill between writing the segment and renaming its manifest leaves: the segment
    # complete, the new manifest not in place (the killed run's vectors are in the cache)
    (index_dir / "manifest.json.tmp-deadbeef").write_bytes(
        (index_dir / "manifest.json").read_bytes()
    )
    (index_dir / "manifest.json").write_bytes(published)
    unpublished = [p.name for p in (index_dir / SEGMENTS).iterdir()]

    assert len(load_stored(index_dir).bulletins) == 4  # readers see the last published version

    report = build(ALL, index_dir, fake_embedder)
    assert f"removed unpublished segment {SEGMENTS}/{unpublished[0]}" in report.recovered
    assert "removed unpublished manifest.json.tmp-deadbeef" in report.recovered
    assert [p.name for p in (index_dir / SEGMENTS).iterdir()] == [report.segment]
    assert report.segment != unpublished[0] and report.embedded == 0
    assert len(load_stored(index_dir).bulletins) == 5


def test_a_full_disk_names_the_file_and_leaves_no_segment(
    tmp_path, fake_embedder, segment_mode, monkeypatch
):
    import index.segments

    index_dir = tmp_path / "index"
    build(FIRST_FOUR, index_dir, fake_embedder)

    def full(path, matrix):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(index.segments, "write_npy", full)
    with pytest.raises(IndexWriteError, match="no space left on device: .*vectors.npy"):
        build(ALL, index_dir, fake_embedder)
    assert list((index_dir / SEGMENTS).iterdir()) == []
    assert len(load_stored(index_dir).bulletins) == 4


def test_a_reader_keeps_its_version_and_the_watcher_reloads_a_new_segment(
    tmp_path, fake_embedder, segment_mode
):
    index_dir = tmp_path / "index"
    build(FIRST_FOUR, index_dir, fake_embedder)
    engine = SearchEngine.open(index_dir, embedder=fake_embedder)
    before = ids(engine.search("年鉴 质量", 5))
    watcher = IndexWatcher(index_dir, engine)

    build(ALL, index_dir, fake_embedder)  # may land within the same second

    assert ids(engine.search("年鉴 质量", 5)) == before and len(engine.stored.bulletins) == 4
    assert watcher.check() and len(watcher.engine.stored.bulletins) == 5
    assert not watcher.check()


def test_a_damaged_segment_is_named_and_repaired(segmented, fake_embedder):
    name = load_stored(segmented).segments[-1].name
    chunks = segmented / SEGMENTS / name / "chunks.jsonl"
    data = bytearray(chunks.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunks.write_bytes(bytes(data))
    with pytest.raises(IndexDamagedError, match=f"{SEGMENTS}/{name}/chunks.jsonl"):
        load_stored(segmented)

    report = build([], segmented, fake_embedder)  # --repair

    assert any(f"{SEGMENTS}/{name}/chunks.jsonl" in note for note in report.repaired)
    stored = load_stored(segmented)
    assert len(stored.bulletins) == 5 and not stored.segments  # re-read from its file, merged
    whole = {c.chunk_id for c in stored.chunks}
    assert {f"{B2024.stem}#0", f"{BUNDATED.stem}#0"} <= whole


# --- the parts --------------------------------------------------------------


def test_segment_bm25_scores_every_passage_with_the_whole_collections_idf():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(40)]
    docs = [list(rng.choice(words, size=rng.integers(3, 30))) for _ in range(60)]
    docs[-1] += ["only_in_segment"] * 2
    base_docs, segment_docs = docs[:45], docs[45:]
    base = bm25s.BM25()
    base.index(base_docs, show_progress=False)
    average = np.mean([len(d) for d in base_docs])
    scored = SegmentedBM25(base, [segment_docs[:5], segment_docs[5:]], average)

    for query in (["w1"], ["w3", "w17"], ["only_in_segment"], ["w5", "only_in_segment"]):
        expected = np.zeros(len(docs))
        for word in query:
            frequency = sum(word in d for d in docs)
            idf = lucene_idf(frequency, len(docs))
            for row, doc in enumerate(docs):
                count = doc.count(word)
                norm = K1 * (1 - B + B * len(doc) / average)
                expected[row] += idf * count / (count + norm) if count else 0.0
        assert scored.get_scores(query) == pytest.approx(expected, rel=1e-5, abs=1e-6), query
    assert "only_in_segment" in scored.vocab_dict and "nowhere" not in scored.vocab_dict
    frequency, documents = scored.document_frequencies()
    assert documents == 60 and frequency["only_in_segment"] == 1
    assert frequency["w1"] == sum("w1" in d for d in docs)
    # without segments it is the base itself
    alone = SegmentedBM25(base, [], average)
    assert alone.get_scores(["w2", "w9"]) == pytest.approx(base.get_scores(["w2", "w9"]))


def test_stacked_parts_read_like_one(parsed):
    chunks = [c for p in parsed.values() for c in p.chunks]
    parts = [chunks[:20], chunks[20:21], chunks[21:]]
    whole = FilterColumns.of(chunks).arrays()
    stacked = FilterColumns.concat([FilterColumns.of(part) for part in parts]).arrays()
    assert whole.keys() == stacked.keys()
    for key in whole:
        if key.endswith(".rows") or key.endswith(".keys") or key.endswith(".lengths"):
            continue  # groups may list their keys in another order: compared below
        assert np.array_equal(whole[key], stacked[key]), key
    a, b = FilterColumns.of(chunks), FilterColumns.concat([FilterColumns.of(p) for p in parts])
    for name in ("rows_by_city", "rows_by_place", "rows_by_section"):
        assert {k: v.tolist() for k, v in getattr(a, name).items()} == {
            k: v.tolist() for k, v in getattr(b, name).items()
        }

    rows = StackedRows(parts)
    assert len(rows) == len(chunks) and list(rows) == chunks
    assert [rows[i] for i in (0, 19, 20, 21, -1)] == [chunks[i] for i in (0, 19, 20, 21, -1)]
    matrix = np.arange(30, dtype=np.float32).reshape(10, 3)
    stacked_matrix = StackedMatrix([matrix[:6], matrix[6:7], matrix[7:]])
    picks = np.array([9, 0, 6, 6, 3, 7])
    assert np.array_equal(stacked_matrix[picks], matrix[picks])
    assert np.array_equal(np.asarray(stacked_matrix), matrix) and len(stacked_matrix) == 10
