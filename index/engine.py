"""A loaded index with its retrievers: what the CLI, the web chat and eval use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from index.embedders import load_embedder
from index.expand import expand_query
from index.filters import Filters, LazyFilterColumns
from index.passage_units import PassageUnits
from index.retrieval import BM25Retriever, DenseRetriever, Hit, HybridRetriever, Retriever
from index.store import IndexMismatchError, StoredIndex, load_stored, rebuild_command
from index.tokenizer import make_tokenizer
from ingest.places import Gazetteer, load_gazetteer

MODES = ("bm25", "dense", "hybrid")
DEFAULT_MODE = "hybrid"
DEFAULT_FUSION = "confident"  # measured: docs/retrieval-quality.md "BM25 and fusion on NCPPolicies"


@dataclass
class SearchEngine:
    stored: StoredIndex
    retrievers: dict[str, Retriever]
    gazetteer: Gazetteer
    columns: LazyFilterColumns  # the passages' filter fields as arrays (index/filters.py)

    @classmethod
    def open(
        cls, index_dir: str | Path | None = None, embedder=None, fusion: str = DEFAULT_FUSION
    ) -> "SearchEngine":
        stored = load_stored(index_dir)
        recorded = stored.manifest["embedder"]
        if embedder is None:
            embedder = load_embedder(recorded.get("spec"))
        if embedder.id != recorded["id"]:
            raise IndexMismatchError(
                f"index at {stored.path} was built with embedder {recorded['id']}, but "
                f"{embedder.id} is in use; "
                f"rebuild it with: {rebuild_command(stored.path)}"
            )
        tokenizer = make_tokenizer(stored.manifest["pipeline"]["tokenizer"])
        columns = LazyFilterColumns(stored.chunks, stored.columns)  # one for every retriever
        units = PassageUnits(stored.chunks, stored.sentences)  # one for both retrievers
        bm25 = BM25Retriever(stored.bm25, tokenizer, stored.chunks, columns, units)
        dense = DenseRetriever(
            stored.faiss_index, embedder, stored.chunks, columns, stored.vectors, units
        )
        retrievers = {"bm25": bm25, "dense": dense, "hybrid": HybridRetriever(bm25, dense, fusion)}
        return cls(stored, retrievers, load_gazetteer(), columns)

    @property
    def manifest(self) -> dict[str, Any]:
        return self.stored.manifest

    def search(
        self, query: str, k: int = 5, mode: str = DEFAULT_MODE, filters: Filters | None = None
    ) -> list[Hit]:
        if mode not in self.retrievers:
            raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(self.retrievers)}")
        if not query.strip():
            return []
        return self.retrievers[mode].search(expand_query(query, self.gazetteer), k, filters)

    def top_scores(self, query: str) -> dict[str, float]:
        """Raw relevance of the best passage per retriever (for "not found" decisions):
        fused scores are normalised per query and say nothing about absolute fit."""
        query = expand_query(query, self.gazetteer)
        return {
            "dense_top_cosine": self.retrievers["dense"].best_raw(query),
            "bm25_top_score": self.retrievers["bm25"].best_raw(query),
        }

    @cached_property
    def indexed_cities(self) -> set[str]:
        return set(self.columns.built.rows_by_city)

    @cached_property
    def indexed_places(self) -> set[str]:
        """Every place label an item is about: "达州市", "达州市 › 大竹县"."""
        return set(self.columns.built.rows_by_place)

    @cached_property
    def sections(self) -> list[str]:
        return sorted(self.columns.built.rows_by_section)

    @cached_property
    def newest_bulletin_date(self) -> str | None:
        return max(filter(None, self.stored.bulletin_dates.values()), default=None)

    def bulletin(self, doc_id: str) -> dict[str, Any]:
        return self.stored.bulletins[doc_id]


def result_dict(hit: Hit, rank: int) -> dict[str, Any]:
    """One result in the search contract (DESIGN.md); extra keys may follow.

    The edge where a chunk's typed metadata becomes JSON: sequences are lists here."""
    meta = hit.chunk.meta
    return {
        "rank": rank,
        "chunk_id": hit.chunk.chunk_id,
        "doc_id": hit.chunk.doc_id,
        "text": hit.chunk.text,
        "score": round(hit.score, 6),
        "title": meta.title,
        "date": meta.date,
        "section": meta.section,
        "places": list(meta.places),
        "source_org": meta.source_org,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "date_estimate": meta.date_estimate,
        "issue_no": meta.issue_no,
        "event_dates": list(meta.event_dates),
        "cities": list(meta.cities),
        "pages": list(meta.pages)
        if meta.pages is not None
        else None,  # printed PDF pages; null for other formats
        "ocr": meta.ocr,  # read by OCR from a scan: may hold recognition errors
    }
