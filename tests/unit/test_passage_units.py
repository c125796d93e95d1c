"""Sentence-level dense scoring (index/passage_units.py): a passage scores the mean of its own
cosine and its best answer unit's, checked against numpy and on a passage whose answering
sentence its own vector misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fakes import FakeEmbedder
from index.build import write_chunks_index
from index.engine import SearchEngine
from index.passage_units import COVERAGE_SHARE, PassageUnits
from index.sentence_vectors import SentenceVectors
from index.stacked import StackedMatrix
from ingest.model import Chunk, ChunkMeta
from ingest.sentences import answer_units


def _chunk(n: int, text: str) -> Chunk:
    return Chunk(f"p{n}", f"p{n}", text, text, 0, len(text), ChunkMeta())


TEXTS = [
    "年鉴质量提升。专家评审通过。",
    "召开工作会议。年鉴质量提升。",  # shares a unit with passage 0
    "无",  # too short for a unit
]


def _units(dim: int = 8, seed: int = 0) -> tuple[list[Chunk], SentenceVectors]:
    chunks = [_chunk(n, text) for n, text in enumerate(TEXTS)]
    texts = list(dict.fromkeys(t[a:b] for t in TEXTS for a, b in answer_units(t)))
    matrix = np.random.default_rng(seed).normal(size=(len(texts), dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return chunks, SentenceVectors.of(texts, matrix)


def _oracle_best(chunks, sentences, query, row) -> float:
    text = chunks[row].text
    rows = [sentences.rows[text[a:b]] for a, b in answer_units(text)]
    return float(np.max(np.asarray(sentences.matrix)[rows] @ query)) if rows else np.nan


def test_best_unit_equals_numpy_and_a_shared_unit_counts_for_both():
    chunks, sentences = _units()
    units = PassageUnits(chunks, sentences)
    query = np.random.default_rng(1).normal(size=8).astype(np.float32)
    rows = np.array([1, 2, 0])
    got = units.best_cosine(query, rows)
    expected = [_oracle_best(chunks, sentences, query, r) for r in rows]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert np.isnan(got[1])  # "无" has no unit
    shared = sentences.rows["年鉴质量提升。"]
    assert shared in units.vector_rows_of(0) and shared in units.vector_rows_of(1)


def test_dense_is_the_mean_and_own_cosine_without_units():
    chunks, sentences = _units()
    units = PassageUnits(chunks, sentences)
    query = np.random.default_rng(2).normal(size=8).astype(np.float32)
    rows, own = np.array([0, 2]), np.array([0.3, 0.7], dtype=np.float32)
    got = units.dense(query, rows, own)
    assert got[0] == pytest.approx((0.3 + _oracle_best(chunks, sentences, query, 0)) / 2)
    assert got[1] == pytest.approx(0.7)


def test_a_stacked_unit_matrix_scores_the_same():
    chunks, sentences = _units()
    whole = np.asarray(sentences.matrix)
    stacked = SentenceVectors(sentences.rows, StackedMatrix([whole[:2], whole[2:]]))
    query = np.random.default_rng(3).normal(size=8).astype(np.float32)
    rows = np.arange(len(chunks))
    np.testing.assert_allclose(
        PassageUnits(chunks, stacked).best_cosine(query, rows),
        PassageUnits(chunks, sentences).best_cosine(query, rows),
        rtol=1e-6,
    )


class WindowEmbedder(FakeEmbedder):
    """Sees only a passage's first WINDOW characters, as a model with a short window would."""

    WINDOW = 30

    def embed_passages(self, texts):
        return super().embed_passages([t[: self.WINDOW] for t in texts])


FILLER = "本办召开全体干部会议，传达学习有关文件精神，部署近期各项工作任务。"
PASSAGES = [
    # the answer is the last sentence, past the embedder's window
    FILLER + "会议还研究了乡镇志村志编纂工作，明确由各县史志办牵头负责。",
    "各市州地方志办公室认真组织年鉴编纂出版工作，按期完成年度任务。",
    "省地方志办公室召开专题会议，研究部署全省地方志信息化建设工作。",
]


def _engine(tmp_path: Path, with_sentences: bool) -> SearchEngine:
    embedder = WindowEmbedder()
    chunks = [_chunk(n, text) for n, text in enumerate(PASSAGES)]
    index_dir = tmp_path / ("units" if with_sentences else "plain")
    write_chunks_index(
        index_dir,
        chunks,
        [],
        embedder,
        "jieba",
        cache_path=None,
        extra_manifest={"files": {}},
        spec="fake",
        with_sentences=with_sentences,
    )
    return SearchEngine.open(index_dir, embedder=embedder)


def test_a_sentence_past_the_window_finds_its_passage(tmp_path):
    question = "乡镇志村志编纂由谁牵头负责"
    plain = _engine(tmp_path, with_sentences=False).search(question, 3, "dense")
    assert plain[0].chunk.chunk_id != "p0"  # its own vector never saw the answer
    hits = _engine(tmp_path, with_sentences=True).search(question, 3, "dense")
    assert hits[0].chunk.chunk_id == "p0"


def test_dense_scores_equal_the_numpy_oracle(tmp_path):
    engine = _engine(tmp_path, with_sentences=True)
    dense = engine.retrievers["dense"]
    question = "地方志工作会议"
    query = dense.query_vector(question)[0]
    passages = np.asarray(engine.stored.vectors)
    sentences = engine.stored.sentences
    chunks = engine.stored.chunks
    oracle = {
        row: (float(passages[row] @ query) + _oracle_best(chunks, sentences, query, row)) / 2
        for row in range(len(chunks))
    }
    for depth in (None, 2):
        got = dense.scores(question, None, depth)
        best = sorted(oracle, key=lambda r: (-oracle[r], r))[: depth or len(oracle)]
        assert sorted(got) == sorted(best)
        for row, score in got.items():
            assert score == pytest.approx(oracle[row], abs=1e-6)


def _headed(n: int, heading: str, text: str) -> Chunk:
    return Chunk(f"h{n}", f"h{n}", text, f"{heading}\n{text}", 0, len(text), ChunkMeta())


def test_coverage_is_the_best_units_share_of_the_words_weight_read_with_the_heading():
    chunks = [
        _headed(0, "", "达州召开会议。研究年鉴质量。"),  # the words in two sentences
        _headed(1, "", "达州研究年鉴质量。其他事项。"),  # all in one
        _headed(2, "达州市", "研究年鉴质量。"),  # the place only in the heading
        _headed(3, "", "无关内容。"),
    ]
    units = PassageUnits(chunks, None)
    words = [("达州",), ("年鉴", "年鉴质量"), ("会议",)]
    weights = np.array([2.0, 1.0, 1.0])
    got = units.best_coverage(words, weights, np.arange(4))
    np.testing.assert_allclose(got, [0.75, 0.75, 0.75, 0.0])  # 达州 + 会议 | 达州 + 年鉴 | …
    words = words[:2]
    np.testing.assert_allclose(
        units.best_coverage(words, weights[:2], np.arange(4)), [2 / 3, 1, 1, 0]
    )
    assert COVERAGE_SHARE == 0.25  # the expected values below
    own = np.array([4.0, 2.0, 2.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose(
        units.lexical(own, 4.0, units.best_coverage(words, weights[:2], np.arange(4))),
        [0.75 * 1 + 0.25 * 2 / 3, 0.75 * 0.5 + 0.25, 0.75 * 0.5 + 0.25, 0.75 * 0.25],
        rtol=1e-6,
    )
    assert not units.has_vectors  # no unit vectors: dense keeps its own cosine


LEXICAL = [
    "达州年鉴工作推进会召开。会上，质量问题被反复强调，达州要求年鉴质量再上台阶。",
    "达州召开会议。年鉴编纂有序推进。质量持续提升。",  # scattered
    "省地方志办公室召开会议，部署年度工作。达州年鉴质量获评优秀。",  # in one sentence
]


def test_a_passage_holding_the_question_in_one_sentence_ranks_above_one_scattering_it(tmp_path):
    write_chunks_index(
        tmp_path / "idx",
        [_chunk(n, text) for n, text in enumerate(LEXICAL)],
        [],
        FakeEmbedder(),
        "jieba",
        cache_path=None,
        extra_manifest={"files": {}},
        spec="fake",
        with_sentences=True,
    )
    engine = SearchEngine.open(tmp_path / "idx", embedder=FakeEmbedder())
    bm25 = engine.retrievers["bm25"]
    question = "达州年鉴质量"
    raw = bm25._question(question).scores
    assert raw[1] > raw[2]  # by its words alone the scattered passage leads
    scores = bm25.scores(question, None, 3)
    assert scores[2] > scores[1]
    # "not found" still reads the raw scores
    assert engine.top_scores(question)["bm25_top_score"] == pytest.approx(float(raw.max()))
