"""One file in, one parsed bulletin and its chunks out. Knows nothing of the index."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ingest.chunking import ChunkingParams, chunk_bulletin
from ingest.documents import FORMATS, load_document
from ingest.errors import NoContentError
from ingest.model import Bulletin, Chunk
from ingest.pages import clean_page_starts
from ingest.parsing import BulletinParser
from ingest.places import Gazetteer, load_gazetteer

SUPPORTED_SUFFIXES = tuple(FORMATS)
# a .zip is opened and its members read (ingest/archives.py)
INGESTIBLE = SUPPORTED_SUFFIXES + (".zip",)


@dataclass(frozen=True)
class ParsedFile:
    bulletin: Bulletin
    chunks: list[Chunk]
    warnings: tuple[str, ...] = ()  # from the format reader: indexed, but worth a look


_SYSTEM_FILES = {"thumbs.db", "desktop.ini"}  # Windows writes these into folders by itself
_HINTS = {  # what a user can do with a file we cannot read
    ".xls": "表格文件 / a spreadsheet",
    ".xlsx": "表格文件 / a spreadsheet",
    ".et": "表格文件 / a spreadsheet",
    ".rtf": "请另存为 .docx / save it as .docx",
    ".rar": "压缩包：请先解压 / an archive: extract it first",
    ".7z": "压缩包：请先解压 / an archive: extract it first",
}


def _listed(path: Path, root: Path) -> bool:
    """Not hidden, not Word's "~$name.docx" lock file (left beside an open document), not a system
    file."""
    return (
        not path.name.startswith("~$")
        and path.name.lower() not in _SYSTEM_FILES
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def unsupported_files(paths: list[str | Path]) -> list[tuple[str, str]]:
    """(path, reason) for files inside the given folders that no reader handles: the
    report lists them as skipped, so nobody assumes they were indexed."""
    skipped = []
    for raw in paths:
        root = Path(raw)
        if not root.is_dir():
            continue  # a file given by name is checked by discover()
        for path in sorted(root.rglob("*")):
            suffix = path.suffix.lower()
            if path.is_file() and suffix not in INGESTIBLE and _listed(path, root):
                hint = _HINTS.get(suffix, f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
                skipped.append(
                    (
                        str(path),
                        f"不支持的文件类型 {suffix or '（无扩展名）'}，未索引 / unsupported file "
                        f"type, not indexed; {hint}",
                    )
                )
    return skipped


def discover(paths: list[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into bulletin files; also return (path, reason) for bad
    arguments."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in INGESTIBLE and _listed(p, path)
            )
        elif path.is_file():
            if path.suffix.lower() in INGESTIBLE:
                files.append(path)
            else:
                problems.append(
                    (
                        str(path),
                        f"不支持的文件类型 / unsupported file type {path.suffix or '(none)'}; "
                        f"supported: {', '.join(SUPPORTED_SUFFIXES)}",
                    )
                )
        else:
            problems.append((str(path), "文件或文件夹不存在 / no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def parse_file(
    path: str | Path,
    doc_id: str,
    gazetteer: Gazetteer | None = None,
    params: ChunkingParams = ChunkingParams(),
    max_bytes: int | None = None,
    data: bytes | None = None,
) -> ParsedFile:
    """max_bytes: refuse larger files (ingest/limits.py) before reading them. data: the
    file's bytes when they are not on disk at `path` (a member of a .zip, ingest/archives.py).

    A file without a bulletin's marks (a notice, a letter, a policy text) is indexed as a
    plain document (DocumentParser), with a warning saying so; so is a bulletin-like file
    in which the bulletin parser finds no items. Only a file without text is refused."""
    from ingest.parsing import PLAIN_DOCUMENT_WARNING, DocumentParser, looks_like_bulletin

    document = load_document(path, max_bytes, data)
    gazetteer = gazetteer or load_gazetteer()
    fields = dict(doc_id=doc_id, path=str(path), sha256=document.sha256, encoding=document.encoding)

    def finish(bulletin: Bulletin) -> tuple[Bulletin, list[Chunk]]:
        page_starts = None
        if document.raw_page_starts is not None:
            page_starts = clean_page_starts(
                document.raw_text, document.raw_page_starts, bulletin.text_clean
            )
        # read from a scan: the passage cards say so
        bulletin = replace(
            bulletin,
            source_format=document.source_format,
            page_starts=page_starts,
            ocr=document.ocr_pages > 0,
        )
        return bulletin, chunk_bulletin(bulletin, params)

    bulletin, chunks = finish(BulletinParser(gazetteer).parse(document.paragraphs, **fields))
    warnings = tuple(document.warnings)
    if not chunks or not looks_like_bulletin(bulletin):
        plain, plain_chunks = finish(DocumentParser(gazetteer).parse(document.paragraphs, **fields))
        if plain_chunks:
            bulletin, chunks, warnings = plain, plain_chunks, (*warnings, PLAIN_DOCUMENT_WARNING)
    if not chunks:
        raise NoContentError(
            str(path), "没有找到简报条目（不是简报？）/ no news items found (is it a bulletin?)"
        )
    return ParsedFile(bulletin, chunks, warnings)
