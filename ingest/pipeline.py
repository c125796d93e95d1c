"""One file in, one parsed bulletin and its chunks out. Knows nothing of the index."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import ChunkingParams, chunk_bulletin
from ingest.cleaning import clean_paragraphs
from ingest.errors import NoContentError
from ingest.loading import read_text_file
from ingest.model import Bulletin, Chunk
from ingest.parsing import BulletinParser
from ingest.places import Gazetteer, load_gazetteer

SUPPORTED_SUFFIXES = (".txt",)


@dataclass(frozen=True)
class ParsedFile:
    bulletin: Bulletin
    chunks: list[Chunk]


def discover(paths: list[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into bulletin files; also return (path, reason) for bad arguments."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                         and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                files.append(path)
            else:
                problems.append((str(path), f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}"))
        else:
            problems.append((str(path), "no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def parse_file(path: str | Path, doc_id: str, gazetteer: Gazetteer | None = None,
               params: ChunkingParams = ChunkingParams()) -> ParsedFile:
    loaded = read_text_file(path)
    paragraphs = clean_paragraphs(loaded.text)
    parser = BulletinParser(gazetteer or load_gazetteer())
    bulletin = parser.parse(paragraphs, doc_id=doc_id, path=str(path), sha256=loaded.sha256, encoding=loaded.encoding)
    chunks = chunk_bulletin(bulletin, params)
    if not chunks:
        raise NoContentError(str(path), "no news items found (is it a bulletin?)")
    return ParsedFile(bulletin, chunks)
