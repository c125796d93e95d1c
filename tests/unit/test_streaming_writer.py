"""The index written a block of passages at a time (issue 12: a million-passage build within
8 GB): from generators the writer makes the same files as from lists, its BM25 is the one
bm25s builds, the streamed embedding calls the embedder as the all-at-once one did, and
vectors.npy is what np.save writes."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import bm25s
import numpy as np
import pytest

import index.bm25_builder
import index.build
import index.filters
from index.bm25_builder import Bm25Builder
from index.build import _bulletin_record, write_chunks_index
from index.embedding_cache import CachedEmbedding, EmbeddingCache, text_sha256
from index.filters import FilterColumns
from index.store import COLUMNS, MANIFEST, VectorsFile, load_stored
from index.tokenizer import make_tokenizer


@pytest.fixture(scope="module")
def archive(parsed):
    """(chunks, bulletin records) of the five bulletins and a copy of each under another id:
    every passage text twice, as repeated boilerplate is in a real archive."""
    chunks, bulletins = [], []
    for copy in ("", "-copy"):
        for result in parsed.values():
            record = _bulletin_record(result.bulletin)
            bulletins.append({**record, "doc_id": record["doc_id"] + copy})
            chunks += [
                replace(c, doc_id=c.doc_id + copy, chunk_id=c.chunk_id.replace("#", copy + "#"))
                for c in result.chunks
            ]
    return chunks, bulletins


def write(index_dir, chunks, bulletins, embedder):
    return write_chunks_index(
        index_dir,
        chunks,
        bulletins,
        embedder,
        "jieba",
        cache_path=None,
        extra_manifest={"files": {}},
        spec=embedder.id,
    )


@pytest.mark.parametrize("ann_over", ["100000", "60"])  # a flat index, an approximate one
def test_a_generator_writes_the_same_index_as_lists(
    tmp_path, archive, fake_embedder, monkeypatch, ann_over
):
    monkeypatch.setenv("BULLETIN_ANN_OVER", ann_over)
    chunks, bulletins = archive
    as_lists = write(tmp_path / "lists", chunks, bulletins, fake_embedder)
    monkeypatch.setattr(index.build, "BLOCK_PASSAGES", 7)  # many blocks, a partial last one
    streamed = write(tmp_path / "stream", iter(chunks), iter(bulletins), fake_embedder)
    assert streamed == as_lists and as_lists.passages == len(chunks) // 2

    a, b = tmp_path / "lists", tmp_path / "stream"
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert ("vectors.npy" in names) == (ann_over == "60")
    for name in set(names) - {MANIFEST, COLUMNS}:  # a zip records when it was written
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    with np.load(a / COLUMNS) as left, np.load(b / COLUMNS) as right:
        assert left.keys() == right.keys()
        for key in left:
            assert left[key].dtype == right[key].dtype and np.array_equal(left[key], right[key])
    manifests = [json.loads((d / MANIFEST).read_text(encoding="utf-8")) for d in (a, b)]
    for manifest in manifests:
        manifest.pop("created_at")
        manifest["checksums"].pop(COLUMNS)
    assert manifests[0] == manifests[1]
    stored = load_stored(b)
    assert [c.chunk_id for c in stored.chunks] == [c.chunk_id for c in chunks]
    exact = np.asarray(stored.vectors)
    assert np.array_equal(exact, fake_embedder.embed_passages([c.embed_text for c in chunks]))


def test_a_failing_stream_leaves_the_live_index_and_no_build_folder(
    tmp_path, archive, fake_embedder, monkeypatch
):
    chunks, bulletins = archive
    write(tmp_path / "index", chunks[:10], bulletins, fake_embedder)
    monkeypatch.setattr(index.build, "BLOCK_PASSAGES", 4)

    def broken():
        yield from chunks[:9]
        raise RuntimeError("the archive could not be read")

    with pytest.raises(RuntimeError, match="could not be read"):
        write(tmp_path / "index", broken(), bulletins, fake_embedder)
    assert len(load_stored(tmp_path / "index").chunks) == 10
    assert [p.name for p in tmp_path.iterdir()] == ["index"]


def test_the_bm25_builder_builds_the_index_bm25s_builds(parsed, monkeypatch):
    tokenize = make_tokenizer("jieba")
    corpus = [tokenize(c.embed_text) for r in parsed.values() for c in r.chunks]
    corpus.insert(3, [])  # a passage with no word
    reference = bm25s.BM25()
    reference.index(corpus, show_progress=False)
    monkeypatch.setattr(index.bm25_builder, "BLOCK_PAIRS", 100)  # many blocks
    builder = Bm25Builder()
    builder.add_all(corpus)
    built = builder.build()

    assert built.vocab_dict.keys() == reference.vocab_dict.keys()
    assert built.vocab_dict[""] == reference.vocab_dict[""] == len(reference.vocab_dict) - 1
    for key in ("data", "indices", "indptr"):
        assert built.scores[key].dtype == reference.scores[key].dtype
    assert built.scores["num_docs"] == reference.scores["num_docs"] == len(corpus)

    def column(bm25, token):  # (passage rows, scores) of a token: numbering aside, the same
        at = bm25.vocab_dict[token]
        run = slice(*bm25.scores["indptr"][at : at + 2])
        return bm25.scores["indices"][run].tolist(), bm25.scores["data"][run].tobytes()

    for token in set(reference.vocab_dict) - {""}:
        assert column(built, token) == column(reference, token), token
    for question in ("达州市年鉴质量", "地方志工作会议", "志书编纂"):
        words = [w for w in tokenize(question) if w in reference.vocab_dict]
        assert built.get_scores(words).tobytes() == reference.get_scores(words).tobytes()


class Recorder:
    """Wraps an embedder, keeping each batch it was given."""

    def __init__(self, inner):
        self.inner, self.id, self.dim, self.batches = inner, inner.id, inner.dim, []

    def embed_passages(self, texts):
        self.batches.append(list(texts))
        return self.inner.embed_passages(texts)


def test_streamed_embedding_makes_the_all_at_once_batches(tmp_path, fake_embedder):
    texts = [f"第{i % 23}段 达州市地方志" for i in range(60)]  # 23 distinct, each repeated
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        cached = texts[4:9]
        cache.put_many(
            fake_embedder.id,
            dict(zip(map(text_sha256, cached), fake_embedder.embed_passages(cached))),
        )
        recorder = Recorder(fake_embedder)
        out = np.zeros((len(texts), fake_embedder.dim), np.float32)

        def put(rows, vectors):
            out[rows] = vectors

        def copy(rows, sources):
            out[rows] = out[sources]

        done = []
        stream = CachedEmbedding(
            recorder, cache, put, copy, 4, lambda n, total: done.append((n, total)), 60
        )
        for start in range(0, len(texts), 7):
            stream.add(texts[start : start + 7])
        embedded = stream.finish()
    # each distinct text the cache lacked, once, in first-seen order, 4 at a time
    missing = [t for t in dict.fromkeys(texts) if t not in cached]
    assert recorder.batches == [missing[i : i + 4] for i in range(0, len(missing), 4)]
    assert embedded == len(missing) == 18
    assert np.array_equal(out, fake_embedder.embed_passages(texts))
    assert done[-1][1] == 60 and [n for n, _ in done] == sorted(n for n, _ in done)


def test_vectors_written_out_of_order_are_what_np_save_writes(tmp_path):
    vectors = np.random.default_rng(0).standard_normal((10, 6)).astype(np.float32)
    with VectorsFile(tmp_path / "vectors.npy", 6) as out:
        out.put([7, 3, 9], vectors[[7, 3, 9]])
        out.put(range(0, 3), vectors[0:3])
        out.put([4, 5, 6], vectors[4:7])
        out.copy([8], [3])
        with VectorsFile(tmp_path / "short.npy", 6) as short, pytest.raises(ValueError):
            short.rows(9)  # no row written
        rows = out.rows(10)
    expected = vectors.copy()
    expected[8] = vectors[3]
    saved = io.BytesIO()
    np.save(saved, expected)
    assert (tmp_path / "vectors.npy").read_bytes() == saved.getvalue()
    assert len(rows) == 10 and np.array_equal(rows[2:5], expected[2:5])
    assert np.array_equal(rows[np.array([1, 8, 9])], expected[[1, 8, 9]])


def test_filter_columns_made_in_blocks_are_the_same(archive, monkeypatch):
    chunks, _ = archive
    whole = FilterColumns.of(chunks).arrays()
    monkeypatch.setattr(index.filters, "_BLOCK_ROWS", 3)
    blocks = FilterColumns.of(iter(chunks)).arrays()
    assert whole.keys() == blocks.keys()
    for key, value in whole.items():
        assert value.dtype == blocks[key].dtype and np.array_equal(value, blocks[key]), key
