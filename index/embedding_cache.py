"""A persistent cache of passage embeddings, so re-indexing only embeds new text.

Keyed by (embedder id, sha256 of the exact text given to the embedder). The
embedder id already captures model, version and any prefix override, so the
prefix is not hashed again. Stored in SQLite with WAL, so an indexer and a
second process (another indexer, an eval run) can share one file.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    embedder_id TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    dim         INTEGER NOT NULL,
    vector      BLOB NOT NULL,  -- little-endian float32 bytes
    PRIMARY KEY (embedder_id, sha256)
) WITHOUT ROWID
"""
_VEC_DTYPE = np.dtype("<f4")  # fixed byte order so the file is portable
_MAX_PARAMS = 500  # stay far below SQLite's bound-parameter limit


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # timeout = how long to wait for another process's write lock before failing.
        self._conn = sqlite3.connect(self.path, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe
        with self._conn:
            self._conn.execute(_SCHEMA)

    def get_many(self, embedder_id: str, shas: Sequence[str]) -> dict[str, np.ndarray]:
        unique = list(dict.fromkeys(shas))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(unique), _MAX_PARAMS):
            part = unique[start : start + _MAX_PARAMS]
            marks = ",".join("?" * len(part))
            rows = self._conn.execute(
                "SELECT sha256, dim, vector FROM embeddings "
                f"WHERE embedder_id = ? AND sha256 IN ({marks})",
                (embedder_id, *part),
            )
            for sha, dim, blob in rows:
                vec = np.frombuffer(blob, dtype=_VEC_DTYPE)
                if vec.size == dim:  # a truncated blob is a miss, not a crash
                    found[sha] = vec.astype(np.float32)  # native, writable copy
        return found

    def put_many(self, embedder_id: str, items: Mapping[str, np.ndarray]) -> None:
        rows = []
        for sha, vec in items.items():
            arr = np.asarray(vec)
            if arr.ndim != 1:
                raise ValueError(f"cache vectors must be 1-D, got shape {arr.shape} for {sha}")
            rows.append((embedder_id, sha, arr.size, arr.astype(_VEC_DTYPE).tobytes()))
        with self._conn:  # one transaction per call: fewer fsyncs, atomic batch
            self._conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def embed_passages_cached(
    embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Embed passages, reusing cached vectors; returns (vectors in input order, number embedded).

    Only cache misses are embedded, each distinct text once. Each finished batch
    is written to the cache at once, so an interrupted run keeps its work.
    `progress(n_done, n_texts)` gets the cumulative number of input texts that have a
    vector (cache hits count at once), so a bar with total=n_texts ends full.
    """
    texts = list(texts)
    batch_size = max(1, int(batch_size))
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    if not texts:
        return out, 0

    shas = [text_sha256(t) for t in texts]
    text_of = dict(zip(shas, texts))  # distinct texts, first-seen order
    count_of: dict[str, int] = {}
    for sha in shas:
        count_of[sha] = count_of.get(sha, 0) + 1

    vectors = cache.get_many(embedder.id, list(text_of)) if cache is not None else {}
    vectors = {s: v for s, v in vectors.items() if v.shape == (embedder.dim,)}
    missing = [s for s in text_of if s not in vectors]

    done = sum(count_of[s] for s in vectors)
    if progress:
        progress(done, len(texts))
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        embedded = np.asarray(
            embedder.embed_passages([text_of[s] for s in batch]), dtype=np.float32
        )
        if embedded.shape != (len(batch), embedder.dim):
            raise ValueError(
                f"{embedder.id} returned shape {embedded.shape}, expected "
                f"{(len(batch), embedder.dim)}"
            )
        fresh = dict(zip(batch, embedded))
        if cache is not None:
            cache.put_many(embedder.id, fresh)
        vectors.update(fresh)
        done += sum(count_of[s] for s in batch)
        if progress:
            progress(done, len(texts))

    for i, sha in enumerate(shas):
        out[i] = vectors[sha]
    return out, len(missing)
