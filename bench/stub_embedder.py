"""Stub embedders for scale benchmarks: no model runs, so a million passages embed in minutes.

StubEmbedder: each text gets a random unit vector (standard normal draws, L2-normalised) from a
generator seeded by a hash of the text, so the same text always gets the same vector and
queries are embedded exactly like passages. The vectors mean nothing and have no neighbours:
every cosine is ~0, so an approximate index's recall on them says nothing about a real one.

WordsStubEmbedder: the sum of a fixed random vector per character bigram of the text (the
bigram's code points folded into 65 536 rows, seed 0), L2-normalised: texts that share words
are near each other, and a varied copy of a passage lands near the original, the neighbourhood
structure an approximate index relies on in real embeddings (still not a model: retrieval
quality is not measured with it). Time, memory and disk are the same for both
(bench/bench_scale.py).
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

DIM = 384  # multilingual-e5-small's, like the real index


class StubEmbedder:
    def __init__(self, dim: int = DIM):
        self.dim = int(dim)
        self.id = f"stub/hash-seeded-normal-{self.dim}"

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(
            hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little"
        )
        vector = np.random.default_rng(seed).standard_normal(self.dim, dtype=np.float32)
        return vector / np.linalg.norm(vector)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of strings, got a single str")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vector(text)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def describe(self) -> dict:
        return {
            "id": self.id,
            "backend": "stub",
            "model": "hash-seeded random unit vectors (benchmarks only)",
            "dim": self.dim,
            "query_prefix": "",
            "passage_prefix": "",
            "versions": {},
        }


_TABLE_ROWS = 1 << 16


class WordsStubEmbedder(StubEmbedder):
    def __init__(self, dim: int = DIM):
        super().__init__(dim)
        self.id = f"stub/bigram-sum-{self.dim}"
        table = np.random.default_rng(0).standard_normal((_TABLE_ROWS, self.dim), dtype=np.float32)
        self._table = table

    def _vector(self, text: str) -> np.ndarray:
        points = np.frombuffer((text or " ").encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        if len(points) == 1:
            points = np.concatenate([points, points])
        rows = (points[:-1] * np.uint64(1_000_003) + points[1:]) % np.uint64(_TABLE_ROWS)
        vector = self._table[rows].sum(axis=0)
        norm = np.linalg.norm(vector)
        return vector / norm if norm > 0 else self._table[0] / np.linalg.norm(self._table[0])

    def describe(self) -> dict:
        return {
            **super().describe(),
            "id": self.id,
            "model": "sum of random bigram vectors (benchmarks only)",
        }


STUBS = {"words": WordsStubEmbedder, "random": StubEmbedder}
