"""One retrieval path: the Retriever protocol (index/retrieval.py) is all that answer/ask.py
and SearchEngine use, and the plain search is ask with understanding off. On an index of the
five bundled bulletins built with the fake embedder (BM25 is the real one)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from answer.ask import Policy, ask
from conftest import ALL
from fakes import FakeEmbedder
from index.build import update_index
from index.engine import SearchEngine
from index.expand import expand_query
from index.filters import Filters
from index.fusion import best_first

QUESTIONS = [
    ("达州 年鉴质量", None),
    ("哪些市州印发了品读季实施方案", None),
    ("What did Dazhou decide on yearbook quality", None),
    ("去年达州的年鉴工作", None),
    ("年鉴", Filters(cities=("达州市",))),
    ("地方志工作会议", Filters(date_from="2024-01-01", date_to="2024-12-31")),
    ("史志阅览室", Filters(sections=("市州动态",))),
]


@pytest.fixture(scope="module", params=["weighted", "rrf"])
def engine(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("one-path")
    embedder = FakeEmbedder()
    update_index(ALL, root / "index", embedder=embedder, cache_path=root / "cache.sqlite")
    return SearchEngine.open(root / "index", embedder=embedder, fusion=request.param)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_plain_search_is_ask_without_understanding(engine, mode):
    for query, filters in QUESTIONS:
        for k in (1, 5, 60):
            plain = engine.search(query, k, mode, filters)
            off = ask(engine, query, k, mode, filters, understand=False)
            assert off.understanding is None and off.precedent is None and not off.undated
            assert off.hits == plain  # hit for hit: passage, score, row and why
    assert ask(engine, "   ", 5, mode, understand=False).hits == engine.search("   ", 5, mode) == []


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_ranks_the_retrievers_scores(engine, mode):
    """Each retriever's plain search is its own scores, best first (ties to the lower row)."""
    retriever = engine.retrievers[mode]
    for query, _ in QUESTIONS:
        text = expand_query(query, engine.gazetteer)
        expected = best_first(retriever.scores(text, None, 50))[:5]
        assert [(h.row, h.score) for h in retriever.search(text, 5)] == expected


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_scores_keep_rows_below_the_cut(engine, mode):
    retriever = engine.retrievers[mode]
    text = expand_query("达州 年鉴质量", engine.gazetteer)
    every = retriever.scores(text, None, None)  # depth None: every row that scores
    assert len(every) > 10
    top = retriever.scores(text, None, 3, keep=())
    if mode != "hybrid":  # hybrid fuses its two retrievers' top 3
        assert top == dict(best_first(every)[:3])
    low = best_first(every)[-1][0]
    assert low not in top
    kept = retriever.scores(text, None, 3, keep={low, -1})  # -1: no such row, nothing added
    assert set(kept) == set(top) | {low}


class OnlyTheProtocol:
    """A retriever that offers nothing but the Retriever protocol: name, scores, search."""

    def __init__(self, inner):
        self.name, self._inner = inner.name, inner

    def scores(self, query, rows=None, depth=None, keep=None):
        return self._inner.scores(query, rows, depth, keep)

    def search(self, query, k, filters=None):
        return self._inner.search(query, k, filters)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_ask_needs_nothing_but_the_protocol(engine, mode):
    bare = replace(
        engine, retrievers={name: OnlyTheProtocol(r) for name, r in engine.retrievers.items()}
    )
    for policy in (Policy(), Policy.parse("place=filter,date=filter,undated=separate")):
        for query, filters in QUESTIONS:
            for precedent in (None, True):
                ours = ask(bare, query, 5, mode, filters, precedent=precedent, policy=policy)
                theirs = ask(engine, query, 5, mode, filters, precedent=precedent, policy=policy)
                assert ours.hits == theirs.hits and ours.undated == theirs.undated
                assert (ours.precedent and ours.precedent.to_dict()) == (
                    theirs.precedent and theirs.precedent.to_dict()
                )
