"""The index directory on disk: write it whole, swap it in, load and check it.

    DIR/manifest.json     schema, embedder, tokenizer, chunking, files, counts
    DIR/faiss.index       inner product over L2-normalised vectors; row i == chunk i: exact
                          (flat) for a small archive, approximate (IVF) past ANN_OVER
                          passages (index/vector_index.py)
    DIR/vectors.npy       with an approximate faiss.index only: the exact float32 vectors,
                          row i == chunk i (memory-mapped: exact scores, updates, repair)
    DIR/chunks.jsonl      one Chunk per line, in row order
    DIR/bulletins.jsonl   per bulletin: metadata and the cleaned text (for full-text view)
    DIR/chunks.offsets.npy, DIR/bulletins.offsets.npy
                          each line's byte offset, so opening parses no passage and a
                          question reads only the rows it ranks (index/rows_file.py)
    DIR/columns.npz       the passages' filter fields as arrays (index/filters.py) and each
                          bulletin's id and date, in row order
    (an index written before the last three is read whole, as it always was)
    DIR/bm25/             bm25s files (token ids follow the manifest's tokenizer)
    DIR/bm25_tokens.jsonl the BM25 tokens of each chunk, in row order: the next update
                          reuses them instead of re-segmenting every kept chunk
                          (optional: an index without it is simply re-tokenized)
    DIR/sentences.jsonl, DIR/sentence_vectors.npy
                          every answer unit's text and vector, for choosing reply
                          sentences by meaning (index/sentence_vectors.py; optional:
                          an index built before them replies by words alone)
    DIR/segments/NAME/    bulletins an update appended without rewriting the rest
                          (index/segments.py): the same files for its passages (exact
                          vectors in vectors.npy, BM25 as tokens), rows after the base's
                          and the earlier segments'; only those the manifest lists count

The manifest records each file's size and sha256 ("checksums"), and for a file over
SAMPLE_OVER bytes also the sha256 of its first and last MiB: opening checks every size and
hash but reads no more than 2 MiB of a big file (hashing a 1M-passage archive whole took
longer than the 10 s an office user waits), so a truncated or overwritten file is named
instead of failing somewhere deep in FAISS or JSON; `python -m ingest --repair` checks whole
files and rebuilds what can be rebuilt.

A new version is written to a temporary sibling (DIR.building-*) and
swapped in with os.replace, so readers never see a half-written index and a
crash mid-build leaves the previous one in place. Writers hold DIR.lock
(index/lock.py); the next writer tidies what a killed one left behind
(recover_interrupted).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from index.bm25_segments import SegmentedBM25
from index.filters import ColumnsBuilder, FilterColumns
from index.rows_file import (
    RecordsFile,
    RowsFile,
    RowsWriter,
    offsets_path,
    save_offsets,
)
from index.sentence_vectors import SentenceVectors
from index.stacked import StackedMatrix, StackedRecords, StackedRows
from index.vector_index import build_vector_index, is_exact, tune_for_search, vectors_in_place
from ingest.errors import BulletinError
from ingest.model import Chunk
from ingest.paths import DATA_DIR

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_INDEX_DIR = DATA_DIR / "index"


class IndexProblem(BulletinError):
    """Base for index problems (ingest/errors.py); str() is a one-line message for the user."""


class IndexMissingError(IndexProblem):
    pass


class IndexMismatchError(IndexProblem):
    pass


class IndexDamagedError(IndexProblem):
    """A file of the index is missing, truncated or not what was written."""


class IndexWriteError(IndexProblem):
    """The index could not be written (disk full, no permission, read-only folder)."""


def default_index_dir() -> Path:
    return Path(os.environ.get("BULLETIN_INDEX_DIR") or DEFAULT_INDEX_DIR)


def _index_flag(index_dir: Path) -> str:
    return (
        "" if Path(index_dir).resolve() == DEFAULT_INDEX_DIR.resolve() else f" --index {index_dir}"
    )


def rebuild_command(index_dir: Path) -> str:
    """Re-reads the files the index lists (no folder to name: never the sample bulletins)."""
    return f"python -m ingest --rebuild{_index_flag(index_dir)}"


def repair_command(index_dir: Path) -> str:
    return f"python -m ingest --repair{_index_flag(index_dir)}"


def build_command(index_dir: Path) -> str:
    """For a folder with no index at all: the sample corpus only for the default (sample) index."""
    if Path(index_dir).resolve() == DEFAULT_INDEX_DIR.resolve():
        return "python -m ingest data/bulletins"
    return f"python -m ingest 简报文件夹/your-bulletins-folder --index {index_dir}"


def damaged(index_dir: Path, what: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"索引已损坏 / the index at {index_dir} is damaged: {what}; "
        f"修复 / repair it with: {repair_command(index_dir)}"
    )


def write_error(exc: OSError, path: Path | str | None = None) -> IndexWriteError:
    """One line in Chinese and English that names the path and the cause."""
    where = exc.filename or path or "?"
    if exc.errno == errno.ENOSPC:
        why = "磁盘空间不足 / no space left on device"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "没有写入权限 / permission denied"
    elif exc.errno == errno.EROFS:
        why = "文件系统只读 / read-only file system"
    else:
        why = f"无法写入 / cannot write: {exc.strerror or exc}"
    return IndexWriteError(f"{why}: {where}")


def has_content(folder: Path) -> bool:
    """True when the folder exists and holds anything: not a place to build a fresh index into."""
    try:
        return any(Path(folder).iterdir())
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return True


@dataclass
class StoredIndex:
    """Everything read from an index directory, models not yet attached."""

    path: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    bulletins: dict[str, dict[str, Any]]
    faiss_index: Any
    bm25: Any
    # vectors of the passages' answer units (index/sentence_vectors.py); None in an index
    # built without them
    sentences: SentenceVectors | None = None
    columns: FilterColumns | None = None  # saved with the index; None in an older one
    # the exact vectors, row i == chunk i: the flat index's own memory, or vectors.npy
    # memory-mapped beside an approximate one
    vectors: np.ndarray | None = None
    # {doc_id: ISO date or None}, saved with the index (None: read from the bulletins)
    saved_bulletin_dates: dict[str, str | None] | None = None

    # {doc_id: its first passage row, -1 when its passages are not one run}; None: not saved
    saved_first_rows: dict[str, int] | None = None
    # the segments an update appended after the base (index/segments.py), in row order
    segments: list[Path] = field(default_factory=list)

    def row_of(self, chunk_id: str) -> int | None:
        """The row of passage "doc#n", reading only its bulletin's rows when the index saved
        where they start."""
        doc_id = chunk_id.rpartition("#")[0]
        saved = self.saved_first_rows
        if saved is not None and doc_id not in saved:
            return None
        row = -1 if saved is None else saved[doc_id]
        if row < 0:  # not saved, or not one run: every row
            return next((i for i, c in enumerate(self.chunks) if c.chunk_id == chunk_id), None)
        while row < len(self.chunks) and self.chunks[row].doc_id == doc_id:
            if self.chunks[row].chunk_id == chunk_id:
                return row
            row += 1
        return None

    @property
    def bulletin_dates(self) -> dict[str, str | None]:
        """Each bulletin's date, without reading the bulletins' texts."""
        if self.saved_bulletin_dates is None:
            self.saved_bulletin_dates = {
                doc_id: b.get("date") for doc_id, b in self.bulletins.items()
            }
        return self.saved_bulletin_dates


def previous_dir(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".previous")


def building_prefix(index_dir: Path) -> str:
    return index_dir.name + ".building-"


TOKENS = "bm25_tokens.jsonl"
CHUNKS = "chunks.jsonl"
BULLETINS = "bulletins.jsonl"
COLUMNS = "columns.npz"
SAMPLE_OVER = 16 << 20  # bytes: a bigger file is checked on opening by its first and last MiB
SAMPLE_BYTES = 1 << 20
VECTORS = "vectors.npy"
CHUNK_CACHE_ROWS = 8192  # passages kept parsed (~9 KB each): a question shows ~5, a list ~100
# bulletins kept parsed (~11 KB each): a precedent list quotes ~100 reports from their bulletins
BULLETIN_CACHE_ROWS = 512
SEGMENTS = "segments"  # folder of the parts updates appended (index/segments.py)
BM25_STATS = "bm25"  # manifest key: {"documents": n, "average_length": tokens per passage}
SENTENCES = "sentences.jsonl"  # every answer unit's text, row i of SENTENCE_VECTORS
SENTENCE_VECTORS = "sentence_vectors.npy"
CHECKSUMS = "checksums"  # manifest key: {relative path: {"bytes": n, "sha256": hex}}


class IndexWriter:
    """A new version of the index, written into a temporary sibling folder (DIR.building-*) as
    its passages come, a block at a time, and swapped in by finish(): passages, their tokens,
    vectors and bulletins go to disk at once, and the filter columns, the bulletins' runs of
    rows and the BM25 counts are kept compactly, so writing a million passages does not hold
    them (issue 12: the build of a 1M archive did not fit in 12 GB).

    Use it as a context manager: leaving it unfinished (an error, an interrupt) removes the
    folder and leaves the live index as it was; an OSError while writing is an
    IndexWriteError naming the path."""

    def __init__(self, index_dir: Path, dim: int):
        self.index_dir = Path(index_dir)
        self.dim = int(dim)
        self.index_dir.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=building_prefix(self.index_dir), dir=self.index_dir.parent)
        )
        self._files = ExitStack()
        self._columns = ColumnsBuilder()
        self._runs = _Runs()
        self._bulletins: tuple[list[str], list[str]] = ([], [])
        self._finished = False
        try:
            with self._writing():
                self._chunks = self._files.enter_context(RowsWriter(self.tmp / CHUNKS))
                self._tokens = self._files.enter_context(RowsWriter(self.tmp / TOKENS))
                self.vectors = self._files.enter_context(VectorsFile(self.tmp / VECTORS, dim))
        except BaseException:
            self._discard()
            raise

    @property
    def rows(self) -> int:
        """Passages added so far."""
        return self._columns.size

    def add(self, chunks: Sequence[Chunk], tokens: Sequence[Sequence[str]]) -> None:
        """The next passages (row order) and their BM25 tokens. Their vectors go to
        self.vectors by row, whenever they are known."""
        with self._writing():
            for chunk, passage_tokens in zip(chunks, tokens, strict=True):
                self._chunks.write(chunk.to_dict())
                self._columns.add(chunk)
                self._runs.add(chunk.doc_id)
                self._tokens.write(passage_tokens)

    def add_bulletins(self, bulletins: Iterable[dict]) -> int:
        """Every bulletin record (once), in row order; returns how many."""
        ids, dates = self._bulletins
        with self._writing():
            with RowsWriter(self.tmp / BULLETINS) as rows:
                for bulletin in bulletins:
                    rows.write(bulletin)
                    ids.append(bulletin["doc_id"])
                    dates.append(bulletin.get("date") or "")
            save_offsets(self.tmp / BULLETINS, rows.offsets)
        return len(ids)

    def save_bm25(self, bm25) -> None:
        if self.rows:
            with self._writing():
                bm25.save(str(self.tmp / "bm25"), show_progress=False)

    def finish(self, manifest: dict, sentences: tuple[list[str], np.ndarray] | None = None) -> None:
        """Write what is left (columns, vector index, answer units), the checksums and the
        manifest, and swap the new version in."""
        import faiss

        with self._writing():
            vectors = self.vectors.rows(self.rows)
            self._files.close()  # passages and tokens flushed to disk
            save_offsets(self.tmp / CHUNKS, self._chunks.offsets)
            ids, dates = self._bulletins
            _write_columns(
                self.tmp / COLUMNS, self._columns.build(), ids, dates, self._runs.first_rows(ids)
            )
            vector_index = build_vector_index(vectors, self.dim)
            faiss.write_index(vector_index, str(self.tmp / "faiss.index"))
            if is_exact(vector_index):
                (self.tmp / VECTORS).unlink()  # a flat index holds the vectors itself
            del vector_index
            if sentences is not None:
                write_sentences(self.tmp, *sentences)
            manifest = {**manifest, CHECKSUMS: file_checksums(self.tmp)}
            # The manifest goes last: a directory without one was never finished.
            (self.tmp / MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            fsync_dir(self.tmp)
            swap_in(self.tmp, self.index_dir)
        self._finished = True

    @contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise write_error(exc, self.tmp) from exc

    def _discard(self) -> None:
        try:
            self._files.close()
        except OSError:
            pass  # the error that stopped the writer is the one to report
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "IndexWriter":
        return self

    def __exit__(self, *exc) -> None:
        if not self._finished:
            self._discard()


class VectorsFile:
    """vectors.npy written a row at a time, at its row's place: a row's vector may be known
    after later rows' (index/embedding_cache.py CachedEmbedding). The header, which holds the
    row count, is written by rows(); the file is then what np.save writes."""

    def __init__(self, path: Path, dim: int):
        self.path, self.dim = Path(path), int(dim)
        self._row_bytes = 4 * self.dim
        self._start = len(_npy_header(0, self.dim))  # the same for any row count
        self._handle = open(self.path, "w+b")
        self._count = 0  # rows, as far as any was written

    def put(self, rows: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        rows = list(rows)
        if rows and rows == list(range(rows[0], rows[0] + len(rows))):  # one run: one write
            self._write(rows[0], vectors.tobytes())
        else:
            for row, vector in zip(rows, vectors):
                self._write(row, vector.tobytes())

    def copy(self, rows: Sequence[int], sources: Sequence[int]) -> None:
        """Give each row the vector of its source row (written before)."""
        fd = self._handle.fileno()
        for row, source in zip(rows, sources):
            self._write(row, os.pread(fd, self._row_bytes, self._at(source)))

    def rows(self, count: int) -> "StoredRows":
        """Complete the file as `count` rows (every one of them written) and return them, read
        from disk as asked for (not memory-mapped: the pages a memory map touches stay in this
        process's memory)."""
        if self._count != count:
            raise ValueError(f"{self.path.name}: vectors for {self._count} rows, not {count}")
        os.pwrite(self._handle.fileno(), _npy_header(count, self.dim), 0)
        self.close()
        return StoredRows(self.path, self._start, count, self.dim)

    def close(self) -> None:
        if not self._handle.closed:
            with self._handle:
                self._handle.flush()
                os.fsync(self._handle.fileno())

    def _write(self, row: int, data: bytes) -> None:
        os.pwrite(self._handle.fileno(), data, self._at(row))
        self._count = max(self._count, row + len(data) // self._row_bytes)

    def _at(self, row: int) -> int:
        return self._start + row * self._row_bytes

    def __enter__(self) -> "VectorsFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class StoredRows:
    """Float32 rows of a file, read when indexed (by a slice or by an array of rows)."""

    def __init__(self, path: Path, start: int, count: int, dim: int):
        self.path, self._start, self._count, self.dim = path, start, count, dim

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, rows) -> np.ndarray:
        with open(self.path, "rb") as handle:
            if isinstance(rows, slice):
                first, stop, step = rows.indices(self._count)
                if step != 1:
                    raise ValueError("rows: a slice with step 1")
                return self._read(handle, first, max(0, stop - first))
            return np.concatenate(
                [self._read(handle, int(row), 1) for row in rows]
                or [np.empty((0, self.dim), np.float32)]
            )

    def _read(self, handle, first: int, count: int) -> np.ndarray:
        data = bytearray(count * 4 * self.dim)  # writable, for FAISS
        handle.seek(self._start + first * 4 * self.dim)
        if handle.readinto(data) != len(data):
            raise OSError(f"{self.path}: fewer than {first + count} rows")
        rows = np.frombuffer(data, dtype="<f4").reshape(count, self.dim)
        return rows.astype(np.float32, copy=False)


def _npy_header(rows: int, dim: int) -> bytes:
    """The .npy header np.save writes for a (rows, dim) float32 array (its length does not
    depend on rows: numpy leaves room for the row count to grow)."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": "<f4", "fortran_order": False, "shape": (rows, dim)}
    )
    return out.getvalue()


class _Runs:
    """Where each bulletin's passages start, and whether they are one run of rows."""

    def __init__(self):
        self._first: dict[str, int] = {}
        self._last: dict[str, int] = {}
        self._count: dict[str, int] = {}
        self._row = 0

    def add(self, doc_id: str) -> None:
        self._first.setdefault(doc_id, self._row)
        self._last[doc_id] = self._row
        self._count[doc_id] = self._count.get(doc_id, 0) + 1
        self._row += 1

    def first_rows(self, ids: list[str]) -> np.ndarray:
        """Each bulletin's first passage row, -1 when its passages are not one run of rows (a
        passage "doc#n" is then looked for row by row)."""
        first, last, count = self._first, self._last, self._count
        return np.array(
            [first[d] if d in first and last[d] - first[d] + 1 == count[d] else -1 for d in ids],
            dtype=np.int64,
        )


def write_columns_of(path: Path, chunks: Sequence[Chunk], bulletins: Sequence[dict]) -> None:
    """columns.npz of passages and bulletins held in lists (a segment: index/segments.py)."""
    runs = _Runs()
    for chunk in chunks:
        runs.add(chunk.doc_id)
    ids = [b["doc_id"] for b in bulletins]
    dates = [b.get("date") or "" for b in bulletins]
    _write_columns(path, FilterColumns.of(chunks), ids, dates, runs.first_rows(ids))


def _write_columns(
    path: Path, columns: FilterColumns, ids: list[str], dates: list[str], first_rows: np.ndarray
) -> None:
    with open(path, "wb") as handle:
        np.savez(
            handle,
            **columns.arrays(),
            **{
                "bulletin.ids": np.array(ids, dtype=str),
                "bulletin.dates": np.array(dates, dtype=str),
                "bulletin.first_rows": first_rows,
            },
        )
        handle.flush()
        os.fsync(handle.fileno())


def file_checksums(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of every file under folder but the manifest, by relative path (and the
    sha256 of a big file's first and last MiB)."""
    sums = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        size = path.stat().st_size
        sums[path.relative_to(folder).as_posix()] = {
            "bytes": size,
            "sha256": _sha256_file(path),
            **({"sample_sha256": _sample_sha256(path)} if size > SAMPLE_OVER else {}),
        }
    return sums


def verify_checksums(live: Path, manifest: dict[str, Any], whole: bool = True) -> list[str]:
    """Files that are missing or differ from what the manifest recorded (none recorded: none
    checked). whole=False (opening an index): a big file's first and last MiB stand for it."""
    problems = []
    for name, expected in (manifest.get(CHECKSUMS) or {}).items():
        path = live / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            problems.append(f"{name} 缺失 / missing")
            continue
        if size != expected["bytes"]:
            problems.append(
                f"{name} 大小不符 / size {size} bytes, expected "
                f"{expected['bytes']} (truncated or replaced)"
            )
        elif (
            _sample_sha256(path) != expected["sample_sha256"]
            if not whole and "sample_sha256" in expected
            else _sha256_file(path) != expected["sha256"]
        ):
            problems.append(f"{name} 内容被改动 / content differs from what was written")
    return problems


def _sample_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(SAMPLE_BYTES))
        handle.seek(max(0, os.fstat(handle.fileno()).st_size - SAMPLE_BYTES))
        digest.update(handle.read(SAMPLE_BYTES))
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def swap_in(new_dir: Path, index_dir: Path) -> None:
    """Replace index_dir by new_dir. A directory cannot be renamed over a non-empty
    one, so the live one steps aside to DIR.previous for the moment between."""
    aside = previous_dir(index_dir)
    if aside.exists():
        shutil.rmtree(aside)  # an OSError here names the path (write_error)
    if index_dir.exists():
        os.replace(index_dir, aside)
    os.replace(new_dir, index_dir)
    shutil.rmtree(aside, ignore_errors=True)


def recover_interrupted(index_dir: Path) -> list[str]:
    """Tidy what a killed writer left beside the index; returns what was done.

    Call only while holding the index lock (no other writer is building). A
    kill between swap_in's two renames leaves DIR missing and the last good
    version at DIR.previous: it goes back in place (the unfinished update is
    simply redone by the next ingest; its embeddings are cached).
    """
    index_dir = Path(index_dir)
    done: list[str] = []
    aside = previous_dir(index_dir)
    if aside.exists():
        if (index_dir / MANIFEST).exists():
            shutil.rmtree(aside, ignore_errors=True)  # the swap finished; its cleanup did not
            done.append(f"removed {aside.name} left by an interrupted swap")
        elif not index_dir.exists() and (aside / MANIFEST).exists():
            os.replace(aside, index_dir)
            done.append(
                f"restored the previous index from {aside.name} "
                "(an update was interrupted mid-swap)"
            )
    if index_dir.parent.is_dir():
        for leftover in sorted(index_dir.parent.iterdir()):
            if leftover.name.startswith(building_prefix(index_dir)) and leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
                done.append(f"removed unfinished build {leftover.name}")
    return done + _unpublished_segments(index_dir)


def _unpublished_segments(index_dir: Path) -> list[str]:
    """Remove what a writer killed while adding a segment left: a manifest not yet renamed
    into place, a segment folder no manifest names (index/segments.py)."""
    done = []
    if index_dir.is_dir():
        for temporary in sorted(index_dir.glob(f"{MANIFEST}.tmp-*")):
            temporary.unlink(missing_ok=True)
            done.append(f"removed unpublished {temporary.name}")
    manifest = read_manifest_loosely(index_dir)
    folder = index_dir / SEGMENTS
    if manifest is None or not folder.is_dir():
        return done  # an unreadable manifest: nothing is known to be unused
    listed = {segment.get("name") for segment in manifest.get(SEGMENTS) or ()}
    for leftover in sorted(folder.iterdir()):
        if leftover.name not in listed:
            shutil.rmtree(leftover, ignore_errors=True)
            done.append(f"removed unpublished segment {SEGMENTS}/{leftover.name}")
    return done


def load_stored(index_dir: Path | str | None = None, whole: bool = False) -> StoredIndex:
    """whole: hash every file whole (--repair), not a big file's ends (opening)."""
    import bm25s
    import faiss

    index_dir = Path(index_dir) if index_dir else default_index_dir()
    live = live_dir(index_dir)
    manifest = read_manifest(live, index_dir)
    problems = verify_checksums(live, manifest, whole=whole)
    if problems:
        raise damaged(index_dir, "; ".join(problems))
    columns, bulletin_dates, first_rows = None, None, None
    try:
        if (live / COLUMNS).exists() and offsets_path(live / CHUNKS).exists():
            columns, chunks, bulletins, bulletin_dates, first_rows = _read_by_row(
                live, lambda what: damaged(index_dir, what)
            )
        else:  # an index written before rows were read one at a time
            chunks = [Chunk.from_dict(d) for d in read_jsonl(live / CHUNKS)]
            bulletins = {d["doc_id"]: d for d in read_jsonl(live / BULLETINS)}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise damaged(
            index_dir, f"chunks.jsonl / bulletins.jsonl 无法读取 / unreadable ({first_line(exc)})"
        ) from None
    try:
        faiss_index = faiss.read_index(str(live / "faiss.index"))
    except (RuntimeError, OSError) as exc:
        raise damaged(index_dir, f"faiss.index 无法读取 / unreadable ({first_line(exc)})") from None
    try:
        bm25 = (  # memory-mapped: an archive's postings are paged in as questions need them
            bm25s.BM25.load(str(live / "bm25"), mmap=True, show_progress=False, verbosity=0)
            if chunks
            else None
        )
    except (OSError, ValueError, KeyError) as exc:
        raise damaged(index_dir, f"bm25/ 无法读取 / unreadable ({first_line(exc)})") from None
    if faiss_index.ntotal != len(chunks):
        raise damaged(index_dir, f"{faiss_index.ntotal} vectors but {len(chunks)} passages")
    tune_for_search(faiss_index)
    try:
        vectors = exact_vectors(live, faiss_index)
    except (OSError, ValueError) as exc:
        raise damaged(index_dir, f"{VECTORS} 无法读取 / unreadable ({first_line(exc)})") from None
    try:
        sentences = read_sentences(live)
    except (OSError, ValueError) as exc:
        raise damaged(
            index_dir, f"{SENTENCE_VECTORS} 无法读取 / unreadable ({first_line(exc)})"
        ) from None
    stored = StoredIndex(
        live,
        manifest,
        chunks,
        bulletins,
        faiss_index,
        bm25,
        sentences,
        columns=columns,
        vectors=vectors,
        saved_bulletin_dates=bulletin_dates,
        saved_first_rows=first_rows,
    )
    folders = segment_dirs(live, manifest)
    if folders:
        if columns is None:
            raise damaged(index_dir, f"{SEGMENTS}/ beside an index in the old format")
        _stack_segments(stored, folders, [_read_segment(f, index_dir) for f in folders])
    return stored


def segment_dirs(live: Path, manifest: dict[str, Any]) -> list[Path]:
    """The folders of the segments the manifest lists, in row order."""
    return [live / SEGMENTS / segment["name"] for segment in manifest.get(SEGMENTS) or ()]


@dataclass
class _Segment:
    """One segment as read: the same files as a base, vectors in vectors.npy, BM25 as tokens."""

    columns: FilterColumns
    chunks: RowsFile
    bulletins: RecordsFile
    bulletin_dates: dict[str, str | None]
    first_rows: dict[str, int]
    vectors: np.ndarray
    tokens: list[list[str]]
    sentences: SentenceVectors | None


def _read_segment(folder: Path, index_dir: Path) -> _Segment:
    name = f"{SEGMENTS}/{folder.name}"
    try:
        columns, chunks, bulletins, dates, first_rows = _read_by_row(
            folder, lambda what: damaged(index_dir, f"{name}/{what}")
        )
        vectors = np.load(folder / VECTORS, allow_pickle=False)
        tokens = read_jsonl(folder / TOKENS)
        sentences = read_sentences(folder)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise damaged(index_dir, f"{name} 无法读取 / unreadable ({first_line(exc)})") from None
    if len(vectors) != len(chunks) or len(tokens) != len(chunks):
        raise damaged(
            index_dir,
            f"{name}: {len(vectors)} vectors and {len(tokens)} token rows for "
            f"{len(chunks)} passages",
        )
    return _Segment(columns, chunks, bulletins, dates, first_rows, vectors, tokens, sentences)


def _stack_segments(stored: StoredIndex, folders: list[Path], segments: list[_Segment]) -> None:
    """The base followed by its segments, read as one index (index/stacked.py)."""
    starts = np.cumsum([len(stored.chunks)] + [len(s.chunks) for s in segments])
    stored.segments = folders
    stored.chunks = StackedRows([stored.chunks, *(s.chunks for s in segments)])
    stored.bulletins = StackedRecords([stored.bulletins, *(s.bulletins for s in segments)])
    stored.columns = FilterColumns.concat([stored.columns, *(s.columns for s in segments)])
    for start, segment in zip(starts, segments):
        stored.saved_bulletin_dates.update(segment.bulletin_dates)
        stored.saved_first_rows.update(
            {d: row + int(start) if row >= 0 else -1 for d, row in segment.first_rows.items()}
        )
        stored.faiss_index.add(np.ascontiguousarray(segment.vectors, dtype=np.float32))
    stored.vectors = (
        vectors_in_place(stored.faiss_index)  # the flat index's memory, segments added
        if is_exact(stored.faiss_index)
        else StackedMatrix([stored.vectors, *(s.vectors for s in segments)])
    )
    stats = stored.manifest.get(BM25_STATS) or {}
    stored.bm25 = SegmentedBM25(
        stored.bm25, [s.tokens for s in segments], stats.get("average_length", 0.0)
    )
    stored.sentences = _stack_sentences([stored.sentences, *(s.sentences for s in segments)])


def _stack_sentences(parts: list[SentenceVectors | None]) -> SentenceVectors | None:
    """The answer-unit vectors of every part that has them (a unit text kept once)."""
    present = [part for part in parts if part is not None and len(part)]
    if not present:
        return next((part for part in parts if part is not None), None)
    rows: dict[str, int] = {}
    start = 0
    for part in present:
        for text, row in part.rows.items():
            rows.setdefault(text, start + row)
        start += len(part.matrix)
    return SentenceVectors(rows, StackedMatrix([part.matrix for part in present]))


def exact_vectors(live: Path, faiss_index) -> np.ndarray | None:
    """Row i's exact vector for every row: a flat index's own memory, else vectors.npy
    (memory-mapped); ValueError when vectors.npy does not match the index."""
    if is_exact(faiss_index) or faiss_index.ntotal == 0:
        return vectors_in_place(faiss_index)
    matrix = np.load(live / VECTORS, mmap_mode="r", allow_pickle=False)
    if matrix.shape != (faiss_index.ntotal, faiss_index.d):
        raise ValueError(f"shape {matrix.shape}, expected {(faiss_index.ntotal, faiss_index.d)}")
    return matrix


def _read_by_row(live: Path, damage: Callable[[str], Exception]):
    """The columns, and the passages and bulletins as files read one row at a time (a row
    that does not parse raises damage(what): damage in the middle of a big file is found
    when its row is read)."""
    with np.load(live / COLUMNS, allow_pickle=False) as saved:
        arrays = dict(saved)
    columns = FilterColumns.from_arrays(arrays)
    ids = arrays["bulletin.ids"].tolist()
    dates = {doc_id: d or None for doc_id, d in zip(ids, arrays["bulletin.dates"].tolist())}
    first_rows = dict(zip(ids, arrays["bulletin.first_rows"].tolist()))
    chunks = RowsFile(
        live / CHUNKS,
        np.load(offsets_path(live / CHUNKS), allow_pickle=False),
        Chunk.from_dict,
        CHUNK_CACHE_ROWS,
        damage,
    )
    bulletin_rows = RowsFile(
        live / BULLETINS,
        np.load(offsets_path(live / BULLETINS), allow_pickle=False),
        dict,
        BULLETIN_CACHE_ROWS,
        damage,
    )
    if columns.size != len(chunks):
        raise ValueError(f"{COLUMNS}: {columns.size} rows but {len(chunks)} passages")
    return columns, chunks, RecordsFile(bulletin_rows, ids), dates, first_rows


def first_line(exc: BaseException) -> str:
    """The first line of an exception (FAISS errors carry a C++ backtrace)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def read_tokens(stored: StoredIndex) -> list[list[str]] | None:
    """The saved BM25 tokens of stored.chunks (row order), or None if absent or not matching."""
    try:
        parts = [stored.path, *stored.segments]
        tokens = [row for part in parts for row in read_jsonl(part / TOKENS)]
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return tokens if len(tokens) == len(stored.chunks) else None


def read_manifest(live: Path, index_dir: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((live / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        if has_content(index_dir):
            # files without a manifest: damaged, never "no index" (that invites a build over it)
            raise damaged(index_dir, f"{MANIFEST} 缺失 / {MANIFEST} is missing") from None
        raise IndexMissingError(
            f"还没有索引 / no index at {index_dir}; build it with: {build_command(index_dir)}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise damaged(index_dir, f"{MANIFEST} 无法读取 / {MANIFEST} is unreadable") from None
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has schema version {manifest.get('schema_version')}, this "
            f"program needs {SCHEMA_VERSION}; "
            f"rebuild it with: {rebuild_command(index_dir)}"
        )
    return manifest


def read_manifest_loosely(index_dir: Path) -> dict[str, Any] | None:
    """The manifest as written, whatever its schema; None when absent or unreadable."""
    try:
        data = json.loads((live_dir(Path(index_dir)) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_writable(index_dir: Path) -> None:
    """Refuse up front to update an index folder that is read-only: the swap would
    rename it aside, fail to delete it, and leave DIR.previous blocking later updates.
    A folder nobody may write to counts as read-only even for root."""
    index_dir = Path(index_dir)
    parent = index_dir.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    folders = [parent] + (
        [index_dir, *(p for p in index_dir.rglob("*") if p.is_dir())] if index_dir.is_dir() else []
    )
    for folder in folders:
        if not os.access(folder, os.W_OK | os.X_OK) or not folder.stat().st_mode & 0o222:
            raise IndexWriteError(
                f"索引文件夹只读，无法更新 / read-only, cannot update the index: {folder}; "
                f"make it writable (chmod u+w) or choose another folder with --index"
            )


def try_read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        return read_manifest(live_dir(index_dir), index_dir)
    except IndexMissingError:
        return None


def live_dir(index_dir: Path) -> Path:
    """The directory to read; during a swap (or after a crash inside one) the
    previous version waits at DIR.previous."""
    for _ in range(20):
        if (index_dir / MANIFEST).exists():
            return index_dir
        aside = previous_dir(index_dir)
        if (aside / MANIFEST).exists() and not index_dir.exists():
            return aside
        if not index_dir.exists() and not aside.exists():
            break
        time.sleep(0.05)
    return index_dir


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def jsonl_lines(path: Path | str, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """The non-blank lines of a JSON Lines file, each with its line number (from 1), for a
    reader that names the line of a bad row. The one JSON Lines reader: read_jsonl uses it."""
    with open(path, encoding=encoding) as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line


def read_jsonl(path: Path | str, encoding: str = "utf-8") -> list[Any]:
    """Every row of a JSON Lines file, blank lines skipped; ValueError (JSONDecodeError) at a
    bad line."""
    return [json.loads(line) for _, line in jsonl_lines(path, encoding)]


def write_sentences(folder: Path, texts: list[str], matrix: np.ndarray) -> None:
    """The answer units' texts and vectors, flushed to disk like the other files."""
    write_jsonl(folder / SENTENCES, texts)
    write_npy(folder / SENTENCE_VECTORS, matrix)


def write_npy(path: Path, matrix: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(matrix, dtype=np.float32))
        handle.flush()
        os.fsync(handle.fileno())


def read_sentences(folder: Path) -> SentenceVectors | None:
    """The stored answer-unit vectors, or None for an index built without them. OSError or
    ValueError when the files are there but unreadable (the caller names the damage)."""
    if not (folder / SENTENCES).exists() and not (folder / SENTENCE_VECTORS).exists():
        return None
    texts = read_jsonl(folder / SENTENCES)
    matrix = np.load(folder / SENTENCE_VECTORS, allow_pickle=False)
    if matrix.ndim != 2 or matrix.shape[0] != len(texts):
        raise ValueError(f"{matrix.shape[0]} sentence vectors but {len(texts)} sentences")
    return SentenceVectors.of(texts, matrix)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
