"""Test doubles that need no model weights."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

_TOKEN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _tokens(text: str) -> list[str]:
    """Character bigrams of each Chinese run (a lone character stands alone), lowercase ASCII
    words."""
    out: list[str] = []
    for run in _TOKEN_RE.findall(text.lower()):
        if _CJK_RE.match(run) and len(run) > 1:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.append(run)
    return out


class FakeEmbedder:
    """Deterministic hashed bag of bigrams/words; texts sharing tokens score higher.

    Signed hashing keeps unrelated texts near cosine 0 despite bucket collisions.
    Counters let tests check that cached texts are not embedded again.
    """

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.id = f"fake/bigram-hash-{dim}"
        self.calls_passages = 0
        self.passages_embedded = 0
        self.calls_queries = 0
        self.queries_embedded = 0

    @staticmethod
    def _hash(token: str) -> int:
        return int.from_bytes(
            hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little"
        )

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for tok in _tokens(text):
            h = self._hash(tok)
            vec[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = np.linalg.norm(vec)
        if norm == 0:
            # no tokens, or signs cancelled: fall back to the raw text so rows stay unit-norm
            vec[self._hash("\0" + text) % self.dim] = 1.0
            norm = 1.0
        return vec / norm

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of strings, got a single str")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vector(text)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls_queries += 1
        self.queries_embedded += len(texts)
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls_passages += 1
        self.passages_embedded += len(texts)
        return self._embed(texts)

    def describe(self) -> dict:
        return {
            "id": self.id,
            "backend": "fake",
            "model": "bigram-hash",
            "dim": self.dim,
            "query_prefix": "",
            "passage_prefix": "",
            "versions": {},
        }


def OtherFakeEmbedder() -> FakeEmbedder:  # noqa: N802 (a factory standing in for a class)
    """Another fake model (32 dimensions): what a Ray worker with another version loads."""
    return FakeEmbedder(dim=32)


class CrashingEmbedder:
    """A FakeEmbedder whose process dies (os._exit, as a killed worker would) at its
    `crash_at`-th batch, once per marker file: the Ray tests' killed actor. The marker is
    written first, so the restarted actor (a new process) carries on."""

    def __init__(self, marker: str, crash_at: int = 2):
        self.inner = FakeEmbedder()
        self.id, self.dim = self.inner.id, self.inner.dim
        self.marker = Path(marker)
        self.crash_at = crash_at
        self.batches = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.batches += 1
        if self.batches == self.crash_at and not self.marker.exists():
            self.marker.write_text(str(os.getpid()), encoding="utf-8")
            os._exit(1)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def describe(self) -> dict:
        return self.inner.describe()


@dataclass(frozen=True)
class CrashOnce:
    """What a Ray actor calls to load its embedder (RayOptions.embedder_factory): a
    CrashingEmbedder sharing one marker file, so one actor dies once in the whole run."""

    marker: str
    crash_at: int = 2

    def __call__(self) -> CrashingEmbedder:
        return CrashingEmbedder(self.marker, self.crash_at)
