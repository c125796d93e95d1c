"""Read what is still good in a damaged index, so an update can repair it without losing it.

The passages (chunks.jsonl) and the bulletins (bulletins.jsonl) are the index's
content; everything else is derived from them: the FAISS vectors (from the
embedding cache, or from a readable faiss.index), BM25 (from the tokens), the
manifest (its file list from the bulletins' paths and hashes). So a damaged
index is repaired by reading the content line by line, keeping every line that
parses, and writing the derived files anew. A bulletin with a passage that could
not be read is parsed again from its file when that file is still there; if it
is not, its readable passages are kept and the report says what was lost.

Nothing here writes the index: index/build.py does that, under the lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding_cache import EmbeddingCache, text_sha256
from index.store import (
    MANIFEST,
    SEGMENTS,
    SENTENCE_VECTORS,
    VECTORS,
    StoredIndex,
    exact_vectors,
    first_line,
    live_dir,
    read_sentences,
    segment_dirs,
    verify_checksums,
)
from ingest.model import Chunk


@dataclass
class Salvaged:
    stored: StoredIndex  # faiss_index and bm25 are None: they are rebuilt
    damage: list[str] = field(default_factory=list)  # what was wrong, for the report
    incomplete: set[str] = field(default_factory=set)  # doc_ids to parse again from their files
    manifest_rebuilt: bool = False  # the manifest was lost: file list rebuilt from the bulletins


def salvage(index_dir: Path, embedder_id: str | None, cache_path: Path | None) -> Salvaged:
    """Everything readable in index_dir. embedder_id: the model whose vectors a
    readable faiss.index holds (from the manifest, or the one the repair uses when
    the manifest is lost); they go into the embedding cache so nothing is re-embedded."""
    live = live_dir(Path(index_dir))
    damage: list[str] = []
    manifest = _read_json(live / MANIFEST, damage)
    if manifest is not None:
        damage.extend(verify_checksums(live, manifest))
    chunk_rows: list[Chunk | None] = []
    bulletin_rows: list[dict | None] = []
    for part in _parts(live, manifest):
        # a segment's damage is named by its path in the index ("segments/0001-…/chunks.jsonl")
        seen: list[str] = []
        rows = _read_rows(part / "chunks.jsonl", seen, _as_chunk)
        bulletin_rows += _read_rows(part / "bulletins.jsonl", seen, _as_bulletin)
        if embedder_id and cache_path:
            _cache_readable_vectors(part, part == live, rows, embedder_id, cache_path, seen)
        prefix = "" if part == live else f"{part.relative_to(live).as_posix()}/"
        damage += [prefix + what for what in seen]
        chunk_rows += rows

    chunks = [c for c in chunk_rows if c is not None]
    bulletins = {b["doc_id"]: b for b in bulletin_rows if b is not None}
    files = _file_list(manifest, bulletins)
    incomplete = _incomplete_docs(chunk_rows, bulletins, files)

    rebuilt = manifest is None
    manifest = dict(manifest or {})
    manifest["files"] = files
    manifest.pop("counts", None)
    stored = StoredIndex(live, manifest, chunks, bulletins, None, None)
    return Salvaged(stored, damage, incomplete, rebuilt)


def _parts(live: Path, manifest: dict[str, Any] | None) -> list[Path]:
    """The base, then its segments (index/segments.py): those the manifest lists, or every
    segment folder when the manifest is lost (named in the order they were added)."""
    if manifest is not None:
        return [live, *segment_dirs(live, manifest)]
    found = sorted(p for p in (live / SEGMENTS).glob("*") if p.is_dir())
    return [live, *found]


def _read_json(path: Path, damage: list[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except FileNotFoundError:
        damage.append(f"{path.name} 缺失 / missing")
    except (OSError, ValueError) as exc:
        damage.append(f"{path.name} 无法读取 / unreadable ({first_line(exc)})")
    return None


def _read_rows(path: Path, damage: list[str], convert) -> list[Any]:
    """One entry per line, None where the line does not parse (row numbers stay right)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        damage.append(f"{path.name} 缺失 / missing")
        return []
    except OSError as exc:
        damage.append(f"{path.name} 无法读取 / unreadable ({first_line(exc)})")
        return []
    rows, bad = [], []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append(convert(json.loads(line.decode("utf-8"))))
        except (ValueError, TypeError, KeyError):
            rows.append(None)
            bad.append(number)
    if bad:
        shown = ", ".join(map(str, bad[:5])) + ("…" if len(bad) > 5 else "")
        damage.append(
            f"{path.name} 有 {len(bad)} 行无法读取 / {len(bad)} unreadable line(s): {shown}"
        )
    return rows


def _as_chunk(data: Any) -> Chunk:
    chunk = Chunk.from_dict(data)
    if (
        not isinstance(chunk.text, str)
        or not isinstance(chunk.embed_text, str)
        or "#" not in chunk.chunk_id
    ):
        raise ValueError("not a passage")
    return chunk


def _as_bulletin(data: Any) -> dict:
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("doc_id"), str)
        or not isinstance(data.get("text_clean"), str)
    ):
        raise ValueError("not a bulletin")
    return data


def _file_list(manifest: dict | None, bulletins: dict[str, dict]) -> dict[str, dict]:
    """The manifest's file list; when it is lost, the bulletins record path and hash too."""
    if manifest and isinstance(manifest.get("files"), dict):
        return dict(manifest["files"])
    files = {}
    for doc_id, bulletin in bulletins.items():
        if bulletin.get("path") and bulletin.get("sha256"):
            files[bulletin["path"]] = {
                "sha256": bulletin["sha256"],
                "doc_id": doc_id,
                "items": len(bulletin.get("items") or ()),
                "chunks": 0,
            }
    return files


def _incomplete_docs(
    rows: list[Chunk | None], bulletins: dict[str, dict], files: dict[str, dict]
) -> set[str]:
    """Bulletins that lost a passage or their record: those next to an unreadable
    line, with a gap in their passage numbers, without a bulletin record, or
    with fewer passages than the file list says."""
    incomplete: set[str] = set()
    for i, row in enumerate(rows):
        if row is None:
            for j in (i - 1, i + 1):
                if 0 <= j < len(rows) and rows[j] is not None:
                    incomplete.add(rows[j].doc_id)
    numbers: dict[str, list[int]] = {}
    for row in rows:
        if row is not None:
            numbers.setdefault(row.doc_id, []).append(int(row.chunk_id.rsplit("#", 1)[1]))
    for doc_id, seen in numbers.items():
        if sorted(seen) != list(range(len(seen))) or doc_id not in bulletins:
            incomplete.add(doc_id)
    for entry in files.values():
        expected = entry.get("chunks") or 0
        if len(numbers.get(entry["doc_id"], ())) < expected or entry["doc_id"] not in bulletins:
            incomplete.add(entry["doc_id"])
    return incomplete


def _cache_readable_vectors(
    live: Path,
    is_base: bool,
    rows: list[Chunk | None],
    embedder_id: str,
    cache_path: Path,
    damage: list[str],
) -> None:
    """Row i of the vectors is line i of chunks.jsonl: keep the vectors of readable lines.
    live: the base (faiss.index) or a segment (vectors.npy alone)."""
    if not rows:
        return
    vectors = _readable_vectors(live, is_base, damage)
    if vectors is None or len(vectors) != len(rows):
        return  # rows no longer line up: the cache alone supplies vectors
    items = {text_sha256(c.embed_text): v for c, v in zip(rows, vectors) if c is not None}
    items.update(_readable_unit_vectors(live, damage))
    with EmbeddingCache(cache_path) as cache:
        present = set(cache.get_many(embedder_id, list(items)))
        missing = {sha: v for sha, v in items.items() if sha not in present}
        if missing:
            cache.put_many(embedder_id, missing)


def _readable_vectors(live: Path, is_base: bool, damage: list[str]) -> np.ndarray | None:
    import faiss

    if not is_base:  # a segment: its exact vectors only
        try:
            return np.load(live / VECTORS, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            damage.append(f"{VECTORS} 无法读取 / unreadable ({first_line(exc)})")
            return None
    try:
        vectors_index = faiss.read_index(str(live / "faiss.index"))
    except (RuntimeError, OSError) as exc:
        if (live / "faiss.index").exists():
            damage.append(f"faiss.index 无法读取 / unreadable ({first_line(exc)})")
        return None
    try:
        return exact_vectors(live, vectors_index)
    except (OSError, ValueError) as exc:
        damage.append(f"{VECTORS} 无法读取 / unreadable ({first_line(exc)})")
        return None


def _readable_unit_vectors(live: Path, damage: list[str]) -> dict[str, np.ndarray]:
    """The stored answer-unit vectors by text hash, when their files can be read."""
    try:
        units = read_sentences(live)
    except (OSError, ValueError) as exc:
        damage.append(f"{SENTENCE_VECTORS} 无法读取 / unreadable ({first_line(exc)})")
        return {}
    if units is None:
        return {}
    return {text_sha256(text): units.matrix[row] for text, row in units.rows.items()}
