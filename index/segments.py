"""Updates in segments: adding bulletins to a big index without rewriting it (issue 12).

An update that only adds bulletins (none changed, removed or lost) to an index whose base holds
at least SEGMENT_OVER passages writes the new ones as a segment, DIR/segments/NAME/: their
passages, bulletins and columns in the base's formats, their exact vectors (vectors.npy) and
BM25 tokens, and their answer units. The segment is complete and on disk before a new
manifest naming it replaces manifest.json in one os.replace, so a reader sees the index
before the update or after it, never half of it; a segment no manifest names (a writer killed
before publishing) is removed by the next writer (store.recover_interrupted). Nothing of the
base changes, so adding a bulletin costs its own passages, not the archive's.

Readers stack the base and its segments as one index (store.load_stored, index/stacked.py,
index/bm25_segments.py). When the segments would pass MERGE_SHARE of the base's passages or
MAX_SEGMENTS, or the update does anything but add, the update rewrites the whole index the
usual way, segments merged in (index/build.py).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from index.rows_file import save_offsets, write_rows
from index.store import (
    BM25_STATS,
    BULLETINS,
    CHECKSUMS,
    CHUNKS,
    COLUMNS,
    MANIFEST,
    SEGMENTS,
    TOKENS,
    VECTORS,
    file_checksums,
    fsync_dir,
    write_columns_of,
    write_error,
    write_jsonl,
    write_npy,
    write_sentences,
)
from ingest.model import Chunk

SEGMENT_OVER = 20_000  # base passages: below, rewriting the whole index takes a few seconds
MERGE_SHARE = 0.05  # segments' passages past this share of the base's: the next update merges
MAX_SEGMENTS = 20  # each segment is a few files to open and a BM25 part scored at question time


def segment_over() -> int:
    """SEGMENT_OVER, or $BULLETIN_SEGMENT_OVER (with $BULLETIN_SEGMENT_SHARE, how tests and
    experiments put segments on a small index)."""
    value = os.environ.get("BULLETIN_SEGMENT_OVER", "").strip()
    return int(value) if value else SEGMENT_OVER


def merge_share() -> float:
    """MERGE_SHARE, or $BULLETIN_SEGMENT_SHARE."""
    value = os.environ.get("BULLETIN_SEGMENT_SHARE", "").strip()
    return float(value) if value else MERGE_SHARE


def segment_rows(manifest: dict[str, Any]) -> int:
    return sum(int(segment["rows"]) for segment in manifest.get(SEGMENTS) or ())


def can_append(manifest: dict[str, Any], total_rows: int, adding: int) -> bool:
    """Whether `adding` passages can go into a new segment of this index rather than a rewrite."""
    segments = manifest.get(SEGMENTS) or []
    base = total_rows - segment_rows(manifest)
    return (
        BM25_STATS in manifest  # a base written before the statistics were saved: rewrite once
        and base >= segment_over()
        and len(segments) < MAX_SEGMENTS
        and segment_rows(manifest) + adding <= merge_share() * base
    )


def append_segment(
    index_dir: Path,
    manifest: dict[str, Any],
    chunks: list[Chunk],
    bulletins: list[dict],
    vectors: np.ndarray,
    tokens: list[list[str]],
    sentences: tuple[list[str], np.ndarray] | None,
    files: dict[str, dict],
) -> dict[str, Any]:
    """Write the added bulletins as a segment of the index at index_dir and publish it; returns
    the new manifest. manifest: the live one; files: the new version's file list."""
    number = len(manifest.get(SEGMENTS) or ()) + 1
    name = f"{number:04d}-{secrets.token_hex(3)}"  # a killed writer's folder never collides
    folder = index_dir / SEGMENTS / name
    try:
        folder.mkdir(parents=True)
        _write_segment_files(folder, chunks, bulletins, vectors, tokens, sentences)
        fsync_dir(folder)
        fsync_dir(folder.parent)
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)  # never published: nothing reads it
        if isinstance(exc, OSError):
            raise write_error(exc, folder) from exc
        raise
    try:
        sums = {f"{SEGMENTS}/{name}/{path}": v for path, v in file_checksums(folder).items()}
        published = {
            **manifest,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": files,
            "counts": {
                "bulletins": manifest["counts"]["bulletins"] + len(bulletins),
                "chunks": manifest["counts"]["chunks"] + len(chunks),
                "files": len(files),
            },
            SEGMENTS: [
                *(manifest.get(SEGMENTS) or ()),
                {"name": name, "rows": len(chunks), "bulletins": len(bulletins)},
            ],
            CHECKSUMS: {**(manifest.get(CHECKSUMS) or {}), **sums},
        }
        publish_manifest(index_dir, published)
    except OSError as exc:
        raise write_error(exc, folder) from exc
    return published


def _write_segment_files(
    folder: Path,
    chunks: list[Chunk],
    bulletins: list[dict],
    vectors: np.ndarray,
    tokens: list[list[str]],
    sentences: tuple[list[str], np.ndarray] | None,
) -> None:
    save_offsets(folder / CHUNKS, write_rows(folder / CHUNKS, (c.to_dict() for c in chunks)))
    save_offsets(folder / BULLETINS, write_rows(folder / BULLETINS, bulletins))
    write_columns_of(folder / COLUMNS, chunks, bulletins)
    write_npy(folder / VECTORS, vectors)
    write_jsonl(folder / TOKENS, tokens)
    if sentences is not None:
        write_sentences(folder, *sentences)


def publish_manifest(index_dir: Path, manifest: dict[str, Any]) -> None:
    """Replace manifest.json in one step: written beside it, flushed, then renamed over it."""
    temporary = index_dir / f"{MANIFEST}.tmp-{secrets.token_hex(4)}"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False, indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, index_dir / MANIFEST)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_dir(index_dir)
