"""Top-k in numpy and filters as columns (issue 12) give the same results as the Python code
they replaced, which is kept here as the oracle: on random scores with ties, and on a small
real index (every retriever, with and without filters, depth cuts and kept rows). The BM25 and
dense oracles also rescore with answer units in plain Python (index/passage_units.py)."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import numpy as np
import pytest

from index.bm25_segments import word_idf
from index.engine import SearchEngine
from index.filters import FilterColumns, Filters
from index.fusion import best_first
from index.passage_units import UNIT_POOL, pool_depth
from index.retrieval import run_of, top_rows
from ingest.sentences import answer_units


def old_cut(scores: dict[int, float], depth, keep=None) -> dict[int, float]:
    """index/retrieval.py's cut() before issue 12, with one change issue 12 made on purpose:
    of the kept rows, the best `depth` are added (it added them all)."""
    if depth is None or len(scores) <= depth:
        return scores
    run = dict(best_first(scores)[:depth])
    run.update(best_first({row: scores[row] for row in keep or () if row in scores})[:depth])
    return run


def old_allowed_rows(chunks, filters):
    if not filters or not filters.active():
        return None
    return np.array([i for i, c in enumerate(chunks) if filters.matches(c)], dtype=np.int64)


@pytest.mark.parametrize("seed", range(20))
def test_top_rows_and_run_of_equal_the_old_cut_with_ties(seed):
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(500, size=rng.integers(1, 200), replace=False)).astype(np.int64)
    values = rng.integers(0, 6, size=len(rows)).astype(np.float64)  # many ties
    scores = dict(zip(rows.tolist(), values.tolist()))
    for depth in (None, 1, 3, 10, 50, 400):
        keep = set(rng.choice(500, size=8).tolist())
        assert run_of(rows, values, depth, keep) == old_cut(scores, depth, keep)
        ordered = rows[top_rows(rows, values, depth)].tolist()
        assert ordered == [r for r, _ in best_first(scores)][: depth or None]


@pytest.fixture(scope="module")
def engine(fake_index):
    index_dir, embedder = fake_index
    return SearchEngine.open(index_dir, embedder=embedder)


FILTERS = [
    None,
    Filters(cities=("达州市",)),
    Filters(cities=("达州市", "成都市"), sections=("市州动态",)),
    Filters(places=("达州市 › 大竹县",)),
    Filters(date_from="2024-01-01"),
    Filters(date_to="2022-12-31"),
    Filters(date_from="2022-10-01", date_to="2022-10-31", cities=("德阳市",)),
    Filters(sections=("特别关注",)),
    Filters(cities=("眉山市",)),
]


@pytest.mark.parametrize("filters", FILTERS)
def test_filter_columns_equal_filters_matches(engine, filters):
    chunks = engine.stored.chunks
    expected = old_allowed_rows(chunks, filters)
    for got in (FilterColumns.of(chunks).allowed(filters), engine.columns.allowed(filters)):
        if expected is None:
            assert got is None
        else:
            assert got.tolist() == expected.tolist()


def old_bm25_scores(retriever, query, rows, depth, keep):
    """The same word scores, cut the old way (a dict of every positive row, sorted); with
    answer units, the best pool_depth(depth) (and of the kept rows) rescored: three quarters
    its share of the top score, a quarter its best unit's coverage of the question's word
    weight (passage_units.COVERAGE_SHARE; none for a row old_read leaves), then cut."""
    words = retriever.tokenizer.query_words(query, retriever.bm25.vocab_dict)
    if not words:
        return {}
    all_scores = sum(retriever._word_scores(forms) for forms in words)
    candidates = rows if rows is not None else np.arange(len(all_scores))
    picked = {int(r): float(all_scores[r]) for r in candidates if all_scores[r] > 0}
    if retriever.units is None or not picked:
        return old_cut(picked, depth, keep)
    pool = picked if depth is None else old_cut(picked, pool_depth(depth), keep)
    weights = [max(word_idf(retriever.bm25, f) for f in forms) for forms in words]
    top = max(picked.values())
    read = old_read(pool)
    rescored = {
        row: 0.75 * score / top
        + (0.25 * old_coverage(retriever.chunks[row], words, weights) if row in read else 0.0)
        for row, score in pool.items()
    }
    return old_cut(rescored, depth, keep)


def old_read(run: dict[int, float]) -> set[int]:
    """The rows rescored with their units: the best UNIT_POOL by their own score."""
    return {row for row, _ in best_first(run)[:UNIT_POOL]}


def old_coverage(chunk, words, weights) -> float:
    """The largest share of the words' weight in one answer unit read with the passage's
    heading (embed_text before its text), one unit at a time."""
    text = chunk.text
    heading = chunk.embed_text[: chunk.embed_text.index(text)].lower()
    units = [text[a:b].lower() for a, b in answer_units(text)] or [text.lower()]
    best = 0.0
    for unit in units:
        read = heading + "\n" + unit
        held = sum(w for forms, w in zip(words, weights) if any(f in read for f in forms))
        best = max(best, held / sum(weights))
    return best


def old_best_unit(retriever, vector, row) -> float | None:
    """The best cosine among passage `row`'s answer units, one unit at a time."""
    text = retriever.chunks[row].text
    cosines = [
        float(np.asarray(retriever.units.matrix[[retriever.units.rows[text[a:b]]]])[0] @ vector)
        for a, b in answer_units(text)
        if text[a:b] in retriever.units.rows
    ]
    return max(cosines) if cosines else None


def old_dense_scores(retriever, query, rows, depth, keep):
    """The passages' own cosines cut the old way; with answer units (index/passage_units.py),
    the best pool_depth(depth) of them (and of the kept rows), old_read's rows rescored by the
    mean with their best unit's cosine, then cut."""
    if retriever.units is None:
        return old_own_scores(retriever, query, rows, depth, keep)
    own = old_own_scores(retriever, query, rows, None, None)
    pool = dict(own)
    if depth is not None:
        kept = {r: s for r, s in own.items() if r in (keep or ())}
        size = pool_depth(depth)
        pool = dict(best_first(own)[:size] + best_first(kept)[:size])
    vector = retriever.query_vector(query)[0]
    for row in old_read(pool):
        best = old_best_unit(retriever, vector, row)
        pool[row] = pool[row] if best is None else (pool[row] + best) / 2
    return old_cut(pool, depth, keep)


def old_own_scores(retriever, query, rows, depth, keep):
    total = retriever.faiss_index.ntotal
    if rows is not None and len(rows) == 0:
        return {}
    vector = retriever.query_vector(query)
    exact = keep is not None or depth is None
    want = total if rows is not None or exact else min(depth, total)
    sims, ids = retriever.faiss_index.search(vector, want)
    allowed = set(rows.tolist()) if rows is not None else None
    picked = {}
    for row, sim in zip(ids[0], sims[0]):
        if row >= 0 and (allowed is None or row in allowed):
            picked[int(row)] = float(sim)
            if not exact and len(picked) >= depth:
                break
    return old_cut(picked, depth, keep) if exact else picked


QUERIES = ["达州 年鉴质量", "地方志工作会议", "精品年鉴品读季 实施方案", "旧志整理", "zzzz"]


@pytest.mark.parametrize("query, filters", list(product(QUERIES, FILTERS[:5])))
def test_retriever_scores_equal_the_old_code(engine, query, filters):
    rows = old_allowed_rows(engine.stored.chunks, filters)
    assert engine.retrievers["dense"].units is not None  # the fake index has answer units
    for depth, keep in ((None, None), (5, None), (20, None), (5, {0, 3, 7}), (5, set())):
        bm25 = engine.retrievers["bm25"]
        assert bm25.units is not None
        new, old = (
            bm25.scores(query, rows, depth, keep),
            old_bm25_scores(bm25, query, rows, depth, keep),
        )
        assert new.keys() == old.keys()
        assert all(new[r] == pytest.approx(old[r], abs=1e-6) for r in new)
        dense = engine.retrievers["dense"]
        new = dense.scores(query, rows, depth, keep)
        old = old_dense_scores(dense, query, rows, depth, keep)
        # FAISS breaks ties among equal cosines its own way: the same top scores, each the
        # row's own, and every kept row (fewer than depth here) that is allowed
        every = old_dense_scores(dense, query, rows, None, None)
        top = len(old) if depth is None or keep is None else depth
        assert sorted(new.values())[-top:] == pytest.approx(sorted(old.values())[-top:], abs=1e-6)
        assert all(new[r] == pytest.approx(every[r], abs=1e-6) for r in new)
        assert {r for r in keep or () if r in every} <= new.keys()
    for mode in ("bm25", "dense", "hybrid"):
        hits = engine.search(query, 5, mode, filters)
        assert all(filters is None or filters.matches(h.chunk) for h in hits)


UNDERSTOOD = [
    "达州2022年在年鉴质量上做了什么",
    "大竹县的地方志工作",
    "达州所辖县的年鉴工作",
    "2024年3月哪些地方召开了地方志工作会议",
    "成都和德阳的品读季活动",
    "宣汉县2022年10月",
    "年鉴质量",
]


@pytest.mark.parametrize("question", UNDERSTOOD)
@pytest.mark.parametrize("filters", [None, Filters(cities=("达州市",)), Filters(date_to="2022-12")])
def test_bonus_rows_from_columns_equal_every_passages_status(engine, question, filters):
    from answer.ask import (
        DEFAULT_POLICY,
        _earns_bonus,
        _prepare,
        date_status,
        place_match,
        understand_for,
    )

    u = understand_for(engine, question)
    chunks = engine.stored.chunks
    rows = old_allowed_rows(chunks, filters)
    candidates = range(len(chunks)) if rows is None else rows.tolist()
    for policy in (DEFAULT_POLICY, replace(DEFAULT_POLICY, parent_share=0.0)):
        expected = {
            r
            for r in candidates
            if _earns_bonus(
                policy,
                place_match(u, chunks[r].meta, policy.parent_share),
                date_status(u, chunks[r].meta, chunks[r].text),
            )
        }
        scoring = _prepare(engine, u, question, "hybrid", filters, policy)
        assert set(scoring.soft.tolist()) == expected
        assert (scoring.rows is None) == (rows is None)


def test_kept_rows_are_bounded_to_their_best_depth():
    """keep adds the best `depth` of the kept rows, not all of them (issue 12): a question naming
    a big city keeps at most 2 x depth candidates per retriever."""
    rows = np.arange(1000, dtype=np.int64)
    values = np.linspace(1.0, 0.001, 1000)  # row 0 best
    keep = np.arange(100, 1000, 3)  # 300 kept rows, all below the top 10
    run = run_of(rows, values, 10, keep)
    assert sorted(run) == list(range(10)) + keep[:10].tolist()
    assert run_of(rows, values, 10, set(keep[:4].tolist())).keys() == set(range(10)) | set(
        keep[:4].tolist()
    )


@pytest.mark.parametrize("query", QUERIES)
def test_dense_and_bm25_keep_the_best_of_the_kept_rows(engine, query):
    """Both retrievers: candidates = top depth of the allowed rows + top depth of the kept rows,
    each by the retriever's own score (the oracle: every row scored, cut by hand)."""
    keep = np.arange(0, len(engine.stored.chunks), 2)
    for name in ("bm25", "dense"):
        retriever = engine.retrievers[name]
        every = retriever.scores(query, None, None)
        expected = dict(best_first(every)[:4])
        expected.update(best_first({r: s for r, s in every.items() if r in set(keep)})[:4])
        got = retriever.scores(query, None, 4, keep)
        assert got.keys() == expected.keys()
        assert all(got[r] == pytest.approx(expected[r], abs=1e-6) for r in expected)


@pytest.mark.parametrize("question", UNDERSTOOD + ["成都市青羊区2024年", "2023年以来宣汉县"])
def test_statuses_from_columns_equal_every_passages_status(engine, question):
    """Understood search reads place and date from the filter columns (a passage's text only
    for "mentioned"): the same value as place_match / date_status for every passage."""
    from answer.ask import (
        DEFAULT_POLICY,
        _prepare,
        date_status,
        place_match,
        understand_for,
    )

    u = understand_for(engine, question)
    chunks = engine.stored.chunks
    for share in (0.5, 0.0):
        policy = replace(DEFAULT_POLICY, parent_share=share)
        scoring = _prepare(engine, u, question, "hybrid", None, policy)
        for row, chunk in enumerate(chunks):
            assert scoring.place_of[row] == place_match(u, chunk.meta, share), (row, question)
            assert scoring.date_of[row] == date_status(u, chunk.meta, chunk.text), (row, question)
