"""The index directory on disk: write it whole, swap it in, load and check it.

    DIR/manifest.json     schema, embedder, tokenizer, chunking, files, counts
    DIR/faiss.index       inner product over L2-normalised vectors; row i == chunk i
    DIR/chunks.jsonl      one Chunk per line, in row order
    DIR/bulletins.jsonl   per bulletin: metadata and the cleaned text (for full-text view)
    DIR/bm25/             bm25s files (token ids follow the manifest's tokenizer)
    DIR/bm25_tokens.jsonl the BM25 tokens of each chunk, in row order: the next update
                          reuses them instead of re-segmenting every kept chunk
                          (optional: an index without it is simply re-tokenized)

A new version is written to a temporary sibling (DIR.building-*) and
swapped in with os.replace, so readers never see a half-written index and a
crash mid-build leaves the previous one in place. Writers hold DIR.lock
(index/lock.py); the next writer tidies what a killed one left behind
(recover_interrupted).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.model import Chunk

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX_DIR = PROJECT_ROOT / "data" / "index"


class IndexError_(Exception):
    """Base for index problems; str() is a one-line message for the user."""


class IndexMissingError(IndexError_):
    pass


class IndexMismatchError(IndexError_):
    pass


def default_index_dir() -> Path:
    return Path(os.environ.get("BULLETIN_INDEX_DIR") or DEFAULT_INDEX_DIR)


def rebuild_command(index_dir: Path) -> str:
    target = "" if Path(index_dir).resolve() == DEFAULT_INDEX_DIR.resolve() else f" --index {index_dir}"
    return f"python -m ingest --rebuild data/bulletins{target}"


@dataclass
class StoredIndex:
    """Everything read from an index directory, models not yet attached."""

    path: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    bulletins: dict[str, dict[str, Any]]
    faiss_index: Any
    bm25: Any


def previous_dir(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".previous")


def building_prefix(index_dir: Path) -> str:
    return index_dir.name + ".building-"


TOKENS = "bm25_tokens.jsonl"


def write_index(index_dir: Path, manifest: dict, chunks: list[Chunk], bulletins: list[dict], vectors: np.ndarray, bm25,
                tokens: list[list[str]] | None = None) -> None:
    import faiss

    index_dir = Path(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=building_prefix(index_dir), dir=index_dir.parent))
    try:
        flat = faiss.IndexFlatIP(int(manifest["embedder"]["dim"]))
        if len(vectors):
            flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(flat, str(tmp / "faiss.index"))
        _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in chunks))
        _write_jsonl(tmp / "bulletins.jsonl", bulletins)
        if tokens is not None:
            _write_jsonl(tmp / TOKENS, tokens)
        if chunks:
            bm25.save(str(tmp / "bm25"), show_progress=False)
        # The manifest goes last: a directory without one was never finished.
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_dir(tmp)
        swap_in(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap_in(new_dir: Path, index_dir: Path) -> None:
    """Replace index_dir by new_dir. A directory cannot be renamed over a non-empty
    one, so the live one steps aside to DIR.previous for the moment between."""
    aside = previous_dir(index_dir)
    if aside.exists():
        shutil.rmtree(aside)
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
            done.append(f"restored the previous index from {aside.name} (an update was interrupted mid-swap)")
    if index_dir.parent.is_dir():
        for leftover in sorted(index_dir.parent.iterdir()):
            if leftover.name.startswith(building_prefix(index_dir)) and leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
                done.append(f"removed unfinished build {leftover.name}")
    return done


def load_stored(index_dir: Path | str | None = None) -> StoredIndex:
    import bm25s
    import faiss

    index_dir = Path(index_dir) if index_dir else default_index_dir()
    live = _live_dir(index_dir)
    manifest = read_manifest(live, index_dir)
    chunks = [Chunk.from_dict(d) for d in _read_jsonl(live / "chunks.jsonl")]
    bulletins = {d["doc_id"]: d for d in _read_jsonl(live / "bulletins.jsonl")}
    faiss_index = faiss.read_index(str(live / "faiss.index"))
    bm25 = bm25s.BM25.load(str(live / "bm25"), show_progress=False, verbosity=0) if chunks else None
    if faiss_index.ntotal != len(chunks):
        raise IndexMismatchError(f"index at {index_dir} is inconsistent ({faiss_index.ntotal} vectors, {len(chunks)} chunks); rebuild it: {rebuild_command(index_dir)}")
    return StoredIndex(live, manifest, chunks, bulletins, faiss_index, bm25)


def read_tokens(stored: StoredIndex) -> list[list[str]] | None:
    """The saved BM25 tokens of stored.chunks (row order), or None if absent or not matching."""
    try:
        tokens = _read_jsonl(stored.path / TOKENS)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return tokens if len(tokens) == len(stored.chunks) else None


def read_manifest(live: Path, index_dir: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((live / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMissingError(f"no index at {index_dir}; build it with: {rebuild_command(index_dir)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IndexMismatchError(f"the index manifest at {live / MANIFEST} is damaged; rebuild with: {rebuild_command(index_dir)}") from None
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has schema version {manifest.get('schema_version')}, this program needs {SCHEMA_VERSION}; "
            f"rebuild it with: {rebuild_command(index_dir)}"
        )
    return manifest


def try_read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        return read_manifest(_live_dir(index_dir), index_dir)
    except IndexMissingError:
        return None


def _live_dir(index_dir: Path) -> Path:
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


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _fsync_dir(path: Path) -> None:
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
