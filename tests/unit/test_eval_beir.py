"""eval.beir: BEIR-layout loading and evaluation, distractor indexes; metrics checked against
pytrec_eval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eval.__main__ as eval_main
import eval.beir as eval_beir
from conftest import CORPUS
from eval.beir import (
    METRICS,
    beir_chunks,
    evaluate_beir,
    index_with_distractors,
    load_beir,
    load_distractors,
    trec_metrics,
)
from eval.metrics import mrr_at, ndcg_at, recall_at
from fakes import FakeEmbedder
from index.engine import SearchEngine
from index.store import load_stored

PASSAGES = {
    "d1": ("年鉴编纂", "达州市加强年鉴质量管理，严格执行年鉴编纂审查验收制度，提升综合年鉴质量。"),
    "d2": ("方志馆", "四川省方志馆周二至周日对公众免费开放，馆内展出历代旧志和地方文献。"),
    "d3": ("Cats", "Cats sleep twelve to sixteen hours a day and love warm sunny windows."),
    "d4": ("", "Dogs need daily walks and enjoy playing fetch in the park."),
    "d5": ("地方志工作会议", "全省地方志工作会议在成都召开，部署第三轮修志规划工作。"),
    "d6": ("旧志整理", "旧志整理出版工作稳步推进，完成明清旧志点校二十部。"),
    "d7": ("Yearbook", "The provincial yearbook is published every year in Chinese and English."),
    "d8": ("猫", "小猫喜欢在阳光下睡觉，每天要睡十几个小时。"),
}
QUERIES = {
    "q1": "达州市年鉴质量管理 年鉴编纂审查验收制度",
    "q2": "方志馆 免费开放 旧志",
    "q3": "how many hours do cats sleep",
    "q4": "地方志工作会议 修志规划",
    "q9": "a query that is not judged",
}
QRELS = [
    ("q1", "d1", 1),
    ("q2", "d2", 1),
    ("q3", "d3", 1),
    ("q3", "d8", 1),
    ("q4", "d5", 2),
    ("q4", "d4", 0),
]


def write_beir(root: Path, passages=PASSAGES, queries=QUERIES, qrels=QRELS) -> Path:
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    with (root / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for pid, (title, text) in passages.items():
            fh.write(
                json.dumps({"_id": pid, "title": title, "text": text}, ensure_ascii=False) + "\n"
            )
    with (root / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for qid, text in queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{s}" for q, d, s in qrels]
    (root / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def beir_dir(tmp_path) -> Path:
    return write_beir(tmp_path / "tiny")


# ------------------------------------------------------------------ loading


def test_load_beir_reads_layout_and_keeps_judged_queries(beir_dir):
    corpus, queries, qrels = load_beir(beir_dir)
    assert len(corpus) == 8 and corpus["d2"]["title"] == "方志馆" and corpus["d4"]["title"] == ""
    assert set(queries) == {"q1", "q2", "q3", "q4"}  # q9 has no judgments
    assert qrels["q3"] == {"d3": 1, "d8": 1} and qrels["q4"] == {"d5": 2, "d4": 0}


@pytest.mark.parametrize(
    "breakage, where",
    [
        (lambda d: (d / "queries.jsonl").unlink(), "queries.jsonl"),
        (lambda d: (d / "qrels" / "test.tsv").unlink(), "test.tsv"),
        (
            lambda d: (d / "corpus.jsonl").open("a", encoding="utf-8").write("{not json\n"),
            "corpus.jsonl:9",
        ),
        (
            lambda d: (
                (d / "corpus.jsonl")
                .open("a", encoding="utf-8")
                .write('{"title": "x", "text": "y"}\n')
            ),
            "corpus.jsonl:9",
        ),
        (
            lambda d: (d / "qrels" / "test.tsv").open("a", encoding="utf-8").write("q1\td2\n"),
            "test.tsv:8",
        ),
        (
            lambda d: (
                (d / "qrels" / "test.tsv").open("a", encoding="utf-8").write("q1\td2\thigh\n")
            ),
            "test.tsv:8",
        ),
        (
            lambda d: (d / "qrels" / "test.tsv").open("a", encoding="utf-8").write("q1\tnope\t1\n"),
            "test.tsv",
        ),
    ],
)
def test_load_beir_errors_name_the_file(beir_dir, breakage, where):
    breakage(beir_dir)
    with pytest.raises(ValueError, match=where.replace(".", r"\.")):
        load_beir(beir_dir)


def test_beir_chunks_one_per_passage():
    chunks = beir_chunks(
        {"a": {"title": "方志馆", "text": "免费开放"}, "b": {"title": "", "text": "cats"}}
    )
    a, b = chunks
    assert (a.chunk_id, a.doc_id, a.text, a.embed_text, a.start, a.end) == (
        "a",
        "a",
        "免费开放",
        "方志馆\n免费开放",
        0,
        4,
    )
    assert b.embed_text == "cats"
    assert (
        a.meta.places == ()
        and a.meta.cities == ()
        and a.meta.date is None
        and a.meta.section is None
    )


# ------------------------------------------------------------------ metrics


def test_pytrec_eval_agrees_with_our_metrics():
    """Binary relevance, one gold doc per query: trec_eval and eval.metrics must agree."""
    # gold at rank 11: outside @10
    rankings = {
        "a": ["x", "g", "y"],
        "b": ["g"],
        "c": ["x", "y", "z", "w", "v", "g"],
        "d": ["x", "y"],
        "e": [f"n{i}" for i in range(10)] + ["g"],
    }
    qrels = {q: {"g": 1} for q in rankings}
    _, per_query = trec_metrics(qrels, rankings)
    for qid, ranking in rankings.items():
        found = [{0} if d == "g" else set() for d in ranking]
        ours = {
            "recall@1": recall_at(found, 1, 1),
            "recall@5": recall_at(found, 1, 5),
            "recall@10": recall_at(found, 1, 10),
            "mrr@10": mrr_at(found, 10),
            "ndcg@10": ndcg_at(found, 1, 10),
        }
        for metric in METRICS:
            assert per_query[qid][metric] == pytest.approx(ours[metric]), (qid, metric)
    assert per_query["c"]["mrr@10"] == pytest.approx(1 / 6) and per_query["e"]["ndcg@10"] == 0.0


def test_trec_metrics_keeps_our_order_and_counts_empty_runs():
    # Equal scores would let trec_eval reorder by doc id; our run must keep the given order.
    overall, per_query = trec_metrics(
        {"q": {"a": 1}, "empty": {"a": 1}}, {"q": ["z", "a"], "empty": []}
    )
    assert per_query["q"]["mrr@10"] == 0.5
    assert per_query["empty"]["mrr@10"] == 0.0 and overall["mrr@10"] == 0.25


# ------------------------------------------------------------------ evaluation


def test_evaluate_beir_scores_and_reuses_the_cache(beir_dir, tmp_path):
    cache = tmp_path / "cache" / "embeddings.sqlite"
    first = evaluate_beir(beir_dir, tmp_path / "idx", embedder=FakeEmbedder(), cache_path=cache)
    assert first.embedded == 8 and first.passages == 8 and first.queries == 4
    assert set(first.metrics) == {"bm25", "dense", "hybrid"}
    for mode in first.metrics:
        assert set(first.metrics[mode]) == set(METRICS)
        assert first.per_query[mode]["q1"] == {m: 1.0 for m in METRICS}  # near-verbatim query
    # q3 has two gold passages; BM25 cannot match the English query to the Chinese one (d8).
    assert (
        first.per_query["bm25"]["q3"]["recall@10"] == 0.5
        and first.per_query["bm25"]["q3"]["mrr@10"] == 1.0
    )
    assert first.metrics["bm25"]["recall@10"] == pytest.approx((1 + 1 + 0.5 + 1) / 4)

    second = evaluate_beir(
        beir_dir, tmp_path / "idx", embedder=FakeEmbedder(), cache_path=cache, modes=("bm25",)
    )
    assert second.embedded == 0 and second.metrics["bm25"] == first.metrics["bm25"]
    assert len(load_stored(tmp_path / "idx").chunks) == 8


# ------------------------------------------------------------------ distractors


def _assert_bulletins_searchable(index_dir: Path, embedder):
    engine = SearchEngine.open(index_dir, embedder=embedder)
    hits = engine.search("德阳品读季活动筹集了多少经费", 5, "bm25")
    assert any("协调筹集活动经费5万元" in h.chunk.text.replace("\n", "") for h in hits)
    assert hits[0].chunk.doc_id in engine.stored.bulletins


def test_load_distractors_kinds(beir_dir, tmp_path):
    assert isinstance(load_distractors(beir_dir), dict)
    txt = tmp_path / "txt"
    txt.mkdir()
    (txt / "a.txt").write_text("标题\n\n正文。\n", encoding="utf-8")
    assert load_distractors(txt) == [(txt / "a.txt").resolve()]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no .txt files"):
        load_distractors(empty)
    with pytest.raises(ValueError, match="no such folder"):
        load_distractors(tmp_path / "missing")


def test_txt_folder_distractors_are_indexed_with_the_bulletins(tmp_path):
    txt = tmp_path / "distractors"
    txt.mkdir()
    (txt / "cats.txt").write_text(
        "猫咪的生活\n\n小猫喜欢在阳光下睡觉，每天要睡十几个小时。\n", encoding="utf-8"
    )
    (txt / "dogs.txt").write_text(
        "Dogs\n\nDogs need daily walks and enjoy playing fetch in the park.\n", encoding="utf-8"
    )
    embedder = FakeEmbedder()
    summary = index_with_distractors(
        CORPUS, txt, tmp_path / "idx", embedder=embedder, cache_path=tmp_path / "c.sqlite"
    )
    stored = load_stored(tmp_path / "idx")
    assert summary["failed"] == [] and summary["bulletins"] == 7 and summary["distractors"] == 2
    assert {"cats", "dogs"} <= {c.doc_id for c in stored.chunks}
    bulletin_chunks = [c for c in stored.chunks if c.doc_id not in ("cats", "dogs")]
    assert len(stored.chunks) == summary["chunks"] == len(bulletin_chunks) + 2
    assert {c.doc_id for c in bulletin_chunks} == {p.stem for p in CORPUS.glob("*.txt")}
    _assert_bulletins_searchable(tmp_path / "idx", embedder)


def test_beir_corpus_distractors_become_extra_chunks(beir_dir, tmp_path):
    embedder = FakeEmbedder()
    summary = index_with_distractors(
        CORPUS, beir_dir, tmp_path / "idx", embedder=embedder, cache_path=tmp_path / "c.sqlite"
    )
    stored = load_stored(tmp_path / "idx")
    bulletin_chunks = [c for c in stored.chunks if c.doc_id in stored.bulletins]
    assert summary["bulletins"] == len(stored.bulletins) == 5 and summary["distractors"] == 8
    assert len(stored.chunks) == len(bulletin_chunks) + 8 == summary["chunks"]
    assert {c.chunk_id for c in stored.chunks} >= set(PASSAGES)
    assert stored.manifest["pipeline"]["chunking"]  # same manifest shape as an ingested index
    _assert_bulletins_searchable(tmp_path / "idx", embedder)
    # A distractor is findable too, and a second build embeds nothing new.
    assert (
        SearchEngine.open(tmp_path / "idx", embedder=embedder)
        .search("方志馆 免费开放", 1, "bm25")[0]
        .chunk.doc_id
        == "d2"
    )
    again = index_with_distractors(
        CORPUS,
        beir_dir,
        tmp_path / "idx",
        embedder=FakeEmbedder(),
        cache_path=tmp_path / "c.sqlite",
    )
    assert again["embedded"] == 0


def test_manpage_passages_pack_chinese_paragraphs():
    from eval.manpage_distractors import passages

    text = "LS(1)  用户命令  LS(1)\n\n名称\n  ls - 列出目录内容\n\n" + "\n\n".join(
        ["列出指定文件的信息，如果既没有指定任何一个选项，也没有指定排序方式，则按字母排序项目。"]
        * 12
    )
    packed = passages(text, size=200)
    assert len(packed) >= 3 and all(len(p) <= 200 + 60 for p in packed)
    # short lines are not passages
    assert not any(p.startswith("LS(1)") or "ls - 列出" in p for p in packed)


# ------------------------------------------------------------------ the CLI


def test_eval_beir_with_the_default_modes_runs_the_plain_retrievers(
    beir_dir, tmp_path, monkeypatch, capsys
):
    """`python -m eval --beir DIR` as the README writes it: no "+u" mode (nothing of Sichuan to
    understand in a BEIR set), the embedder and cache of the run kept out of the project."""
    monkeypatch.setattr(eval_beir, "load_embedder", lambda spec=None: FakeEmbedder())
    monkeypatch.setattr(eval_main, "cache_path_for", lambda _: tmp_path / "c" / "e.sqlite")
    assert eval_main.main(["--beir", str(beir_dir)]) == 0
    out = capsys.readouterr().out
    assert "4 queries" in out and all(f"\n{mode} " in out for mode in ("bm25", "dense", "hybrid"))
    with pytest.raises(SystemExit) as refused:
        eval_main.main(["--beir", str(beir_dir), "--modes", "hybrid+u"])
    assert refused.value.code == 2 and "--beir runs the modes" in capsys.readouterr().err
