"""A stub embedder for scale benchmarks: no model runs, so a million passages embed in seconds.

Each text gets a random unit vector (standard normal draws, L2-normalised) from a generator
seeded by a hash of the text, so the same text always gets the same vector and queries are
embedded exactly like passages. The vectors mean nothing: retrieval quality measured with them
is noise; only time, memory and disk are worth reading (bench/bench_scale.py).
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
