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
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)

    def put(rows: Sequence[int], vectors: np.ndarray) -> None:
        out[rows] = vectors

    def copy(rows: Sequence[int], sources: Sequence[int]) -> None:
        out[rows] = out[sources]

    stream = CachedEmbedding(embedder, cache, put, copy, batch_size, progress, len(texts))
    stream.add(texts)
    return out, stream.finish()


class CachedEmbedding:
    """embed_passages_cached over texts that come a block at a time (an archive too big to hold
    at once), with the same calls to the embedder: each distinct text the cache lacks, once, in
    first-seen order, batch_size at a time. A row's vector goes to put(rows, vectors) once known
    (a row may wait for its batch to fill), and a row repeating an earlier row's text is filled
    by copy(rows, earlier rows) in finish()."""

    def __init__(
        self,
        embedder,
        cache: EmbeddingCache | None,
        put: Callable[[Sequence[int], np.ndarray], None],
        copy: Callable[[Sequence[int], Sequence[int]], None],
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
        total: int = 0,
    ):
        """progress(rows with a vector, total): total is 0 when not known."""
        self._embedder, self._cache, self._put, self._copy = embedder, cache, put, copy
        self._batch_size = max(1, int(batch_size))
        self._progress, self._total = progress, total
        self._first: dict[str, int] = {}  # sha -> the first row with that text
        self._waiting: dict[str, list[int]] = {}  # sha -> rows waiting for its batch
        self._queued: dict[str, str] = {}  # sha -> text, misses not yet embedded (in order)
        self._copies: list[tuple[int, int]] = []  # (row, earlier row with the same text)
        self._rows = self._done = self._embedded = 0

    def add(self, texts: Sequence[str]) -> None:
        """The next rows' texts."""
        if not texts:
            return
        shas = [text_sha256(t) for t in texts]
        fresh: dict[str, list[int]] = {}  # distinct texts not seen before, first-seen order
        for row, sha in enumerate(shas, self._rows):
            if sha in fresh:
                fresh[sha].append(row)
            elif sha in self._waiting:
                self._waiting[sha].append(row)
            elif sha in self._first:
                self._copies.append((row, self._first[sha]))
                self._done += 1
            else:
                fresh[sha] = [row]
                self._first[sha] = row
        self._rows += len(texts)
        found = self._cached(list(fresh))
        for sha, vector in found.items():
            self._put(fresh[sha], np.broadcast_to(vector, (len(fresh[sha]), len(vector))))
            self._done += len(fresh[sha])
        self._report()
        text_of = dict(zip(shas, texts))
        for sha, rows in fresh.items():
            if sha not in found:
                self._waiting[sha] = rows
                self._queued[sha] = text_of[sha]
                if len(self._queued) == self._batch_size:
                    self._embed_queued()

    def finish(self) -> int:
        """Embed what is left, fill the repeated rows; returns how many texts were embedded."""
        if self._queued:
            self._embed_queued()
        if self._copies:
            rows, sources = zip(*self._copies)
            self._copy(list(rows), list(sources))
            self._copies = []
        return self._embedded

    def _cached(self, shas: list[str]) -> dict[str, np.ndarray]:
        if self._cache is None or not shas:
            return {}
        found = self._cache.get_many(self._embedder.id, shas)
        return {s: v for s, v in found.items() if v.shape == (self._embedder.dim,)}

    def _embed_queued(self) -> None:
        batch, self._queued = self._queued, {}
        embedded = np.asarray(self._embedder.embed_passages(list(batch.values())), np.float32)
        if embedded.shape != (len(batch), self._embedder.dim):
            raise ValueError(
                f"{self._embedder.id} returned shape {embedded.shape}, expected "
                f"{(len(batch), self._embedder.dim)}"
            )
        fresh = dict(zip(batch, embedded))
        if self._cache is not None:
            self._cache.put_many(self._embedder.id, fresh)
        for sha, vector in fresh.items():
            rows = self._waiting.pop(sha)
            self._put(rows, np.broadcast_to(vector, (len(rows), len(vector))))
            self._done += len(rows)
        self._embedded += len(batch)
        self._report()

    def _report(self) -> None:
        if self._progress:
            self._progress(self._done, self._total)
