"""The passages' vector index (issue 12): exact flat search for a small index, an approximate
IVF index past ANN_OVER whose candidates are scored exactly from vectors.npy."""

from __future__ import annotations

import gc
import shutil

import faiss
import numpy as np
import pytest

from conftest import ALL, B2020
from index.build import update_index
from index.engine import SearchEngine
from index.filters import Filters
from index.retrieval import DenseRetriever
from index.store import VECTORS, load_stored
from index.vector_index import build_vector_index, is_exact, nlist_for, vectors_in_place


def clustered(n: int, dim: int = 64, centres: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres: the neighbourhoods real embeddings have."""
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dim))
    points = middle[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


class VectorsAsQueries:
    """An embedder whose "query" is a row number's vector, for recall against exact search."""

    def __init__(self, queries: np.ndarray):
        self.queries = queries

    def embed_queries(self, texts):
        return self.queries[[int(t) for t in texts]]


def test_a_small_index_stays_exact():
    vectors = clustered(500)
    index = build_vector_index(vectors, 64)
    assert is_exact(index) and index.ntotal == 500


def test_a_view_of_a_flat_index_keeps_its_memory_after_the_index_is_dropped():
    # the view is FAISS's own memory: it once read freed memory when its StoredIndex was gone
    vectors = clustered(2000)

    def view_only() -> np.ndarray:
        flat = build_vector_index(vectors, vectors.shape[1])
        return np.asarray(vectors_in_place(flat)[:1500])  # a plain slice of the view

    view = view_only()
    gc.collect()
    reuse = [np.full((2000, 64), np.nan, dtype=np.float32) for _ in range(20)]
    np.testing.assert_array_equal(view, vectors[:1500])
    assert not view.flags.writeable and len(reuse) == 20


def test_an_approximate_index_finds_the_exact_top_10_and_scores_exactly(monkeypatch):
    monkeypatch.setenv("BULLETIN_ANN_OVER", "1000")
    every = clustered(20_050)  # the last 50 ask: questions near the passages' topics
    vectors, queries = every[:20_000], every[20_000:]
    index = build_vector_index(vectors, 64)
    assert not is_exact(index) and faiss.extract_index_ivf(index).nlist == nlist_for(20_000)
    dense = DenseRetriever(index, VectorsAsQueries(queries), [], matrix=vectors)
    found = []
    for q in range(len(queries)):
        sims = vectors @ queries[q]
        exact = set(np.argsort(-sims)[:10].tolist())
        got = dense.scores(str(q), None, 10)
        assert all(score == pytest.approx(float(sims[row]), abs=1e-5) for row, score in got.items())
        found.append(len(exact & set(got)) / 10)
        # restricted to a few rows: those rows' exact best
        rows = np.arange(q, 20_000, 97, dtype=np.int64)
        few = dense.scores(str(q), rows, 5)
        assert sorted(few) == sorted(rows[np.argsort(-sims[rows])[:5]].tolist())
        # restricted to many rows (a FAISS ID selector): only those rows
        many = np.arange(0, 20_000, 2, dtype=np.int64)
        assert set(dense.scores(str(q), many, 10)) <= set(many.tolist())
    assert np.mean(found) >= 0.98


def test_an_approximate_index_needs_its_exact_vectors(monkeypatch):
    monkeypatch.setenv("BULLETIN_ANN_OVER", "1000")
    index = build_vector_index(clustered(2000), 64)
    with pytest.raises(ValueError, match="exact vectors"):
        DenseRetriever(index, None, [])


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "bulletins"
    folder.mkdir()
    for path in ALL:
        if path != B2020:
            shutil.copy(path, folder / path.name)
    return folder


def test_an_ingested_approximate_index_answers_like_the_exact_one(
    tmp_path, corpus, fake_embedder, monkeypatch
):
    """The bulletins indexed approximately (BULLETIN_ANN_OVER forces it on a small index, whose
    few lists are all searched) give the exact index's results; an update and a repair keep
    the exact vectors."""
    exact_dir, ann_dir = tmp_path / "exact", tmp_path / "ann"
    update_index([corpus], exact_dir, embedder=fake_embedder)
    monkeypatch.setenv("BULLETIN_ANN_OVER", "10")
    update_index([corpus], ann_dir, embedder=fake_embedder)
    assert (ann_dir / VECTORS).exists() and not (exact_dir / VECTORS).exists()
    exact, ann = (SearchEngine.open(d, embedder=fake_embedder) for d in (exact_dir, ann_dir))
    assert not is_exact(ann.stored.faiss_index)
    assert np.array_equal(ann.stored.vectors, exact.stored.vectors)
    for query in ("达州 年鉴质量", "地方志工作会议", "旧志整理"):
        for filters in (None, Filters(cities=("达州市",))):
            for mode in ("dense", "hybrid"):
                want = [(h.row, round(h.score, 5)) for h in exact.search(query, 5, mode, filters)]
                got = [(h.row, round(h.score, 5)) for h in ann.search(query, 5, mode, filters)]
                assert got == want, (query, filters, mode)

    shutil.copy(B2020, corpus / B2020.name)  # an update: kept passages keep their vectors
    for target in (exact_dir, ann_dir):
        update_index([corpus], target, embedder=fake_embedder)
    before, after = load_stored(exact_dir), load_stored(ann_dir)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert np.allclose(after.vectors, before.vectors, atol=1e-6)

    (ann_dir / VECTORS).write_bytes(b"damaged")  # the next update repairs it
    update_index([corpus], ann_dir, embedder=fake_embedder)
    assert np.allclose(load_stored(ann_dir).vectors, before.vectors, atol=1e-6)
