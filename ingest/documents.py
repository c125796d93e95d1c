"""Any supported file -> the paragraphs BulletinParser reads (plus page starts for a PDF).

Two routes, so that every format meets the same cleaning and parsing rules:
- TXT and PDF give hard-wrapped text (a PDF page by page, its running header
  and page numbers removed): the cleaner rejoins the lines into paragraphs.
- DOCX, HTML and Markdown know their paragraphs and headings: they become
  paragraphs directly (ingest/formats/blocks.py), unless they hold pasted PDF
  text, which goes through the cleaner like a TXT.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ingest.cleaning import Paragraph, clean_paragraphs
from ingest.errors import NoContentError
from ingest.formats.blocks import Block, paragraphs_from_blocks
from ingest.loading import decode_bytes, read_file_bytes

FORMATS = {".txt": "txt", ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".md": "md",
           ".markdown": "md"}


@dataclass(frozen=True)
class SourceDocument:
    path: str
    sha256: str  # of the bytes read: the index compares it with its own read
    source_format: str  # txt | pdf | docx | html | md
    encoding: str  # the text encoding, or the format for binary formats
    paragraphs: list[Paragraph]
    raw_text: str | None = None  # the hard-wrapped text the cleaner read (TXT, PDF)
    raw_page_starts: tuple[int, ...] | None = None  # PDF: offsets in raw_text where pages begin
    # Indexed, but the user should know ("page 3 looks garbled", "read by OCR"): the
    # ingest report lists these beside the file.
    warnings: tuple[str, ...] = ()


def load_document(path: str | Path, max_bytes: int | None = None) -> SourceDocument:
    """Read and convert one file; IngestError subclasses name the file and the problem."""
    name = str(path)
    source_format = FORMATS[Path(path).suffix.lower()]
    data = read_file_bytes(path, max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    if source_format == "pdf":
        from ingest.formats.pdf import read_pdf

        pdf = read_pdf(data, name)
        return SourceDocument(name, sha, "pdf", "pdf", clean_paragraphs(pdf.text), pdf.text, pdf.page_starts,
                              tuple(pdf.warnings))
    if source_format == "docx":
        from ingest.formats.word import read_docx

        return _from_blocks(name, sha, "docx", "docx", read_docx(data, name))
    if source_format == "html":
        from ingest.formats.web import read_html

        return _from_blocks(name, sha, "html", "html", read_html(data, name))
    text, encoding = decode_bytes(data, name)
    if source_format == "md":
        from ingest.formats.markdown import read_markdown

        return _from_blocks(name, sha, "md", encoding, read_markdown(text))
    return SourceDocument(name, sha, "txt", encoding, clean_paragraphs(text), text)


def _from_blocks(name: str, sha: str, source_format: str, encoding: str, blocks: list[Block]) -> SourceDocument:
    paragraphs = paragraphs_from_blocks(blocks)
    if not paragraphs:
        raise NoContentError(name, "文件中没有文字 / the file contains no text")
    return SourceDocument(name, sha, source_format, encoding, paragraphs)
