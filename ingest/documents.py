"""Any supported file -> the paragraphs BulletinParser reads (plus page starts for a PDF).

Two routes, so that every format meets the same cleaning and parsing rules:
- TXT and PDF give hard-wrapped text (a PDF page by page, its running header
  and page numbers removed): the cleaner rejoins the lines into paragraphs.
- DOCX, HTML and Markdown know their paragraphs and headings: they become
  paragraphs directly (ingest/formats/blocks.py), unless they hold pasted PDF
  text, which goes through the cleaner like a TXT.
A scanned PDF (no usable text layer) and a picture of a page (PNG, JPEG, TIFF) are
read by OCR (ingest/formats/ocr.py) into the same hard-wrapped lines as a PDF.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ingest.cleaning import Paragraph, clean_paragraphs
from ingest.errors import NeedsOcrError, NoContentError
from ingest.formats.blocks import Block, paragraphs_from_blocks
from ingest.loading import decode_bytes, read_file_bytes

FORMATS = {
    ".txt": "txt",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".doc": "doc",
    ".wps": "wps",
    # Pictures of a bulletin's pages: read by OCR.
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}


@dataclass(frozen=True)
class SourceDocument:
    path: str
    sha256: str  # of the bytes read: the index compares it with its own read
    source_format: str  # txt | pdf | docx | html | md | image
    encoding: str  # the text encoding, or the format for binary formats
    paragraphs: list[Paragraph]
    raw_text: str | None = None  # the hard-wrapped text the cleaner read (TXT, PDF)
    raw_page_starts: tuple[int, ...] | None = None  # PDF: offsets in raw_text where pages begin
    # Indexed, but the user should know ("page 3 looks garbled", "read by OCR"): the
    # ingest report lists these beside the file.
    warnings: tuple[str, ...] = ()
    # pages whose text OCR read (a scan or a picture): it may hold recognition errors
    ocr_pages: int = 0


def load_document(
    path: str | Path, max_bytes: int | None = None, data: bytes | None = None
) -> SourceDocument:
    """Read and convert one file; IngestError subclasses name the file and the problem.
    data: the bytes when they do not come from `path` on disk (a member of a .zip)."""
    name = str(path)
    source_format = FORMATS[Path(path).suffix.lower()]
    if data is None:
        data = read_file_bytes(path, max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    if source_format == "pdf":
        return _from_pdf(name, sha, data)
    if source_format == "image":
        from ingest.formats.ocr import ocr_image

        return _from_ocr(name, sha, "image", ocr_image(data, name))
    if source_format == "docx":
        return _from_docx(name, sha, data)
    if source_format in ("doc", "wps"):  # legacy Word / WPS Writer: converted by LibreOffice
        from ingest.formats.legacy_word import read_legacy_word

        return _from_blocks(
            name,
            sha,
            source_format,
            source_format,
            read_legacy_word(data, name, Path(path).suffix.lower()),
        )
    if source_format == "html":
        from ingest.formats.web import read_html

        return _from_blocks(name, sha, "html", "html", read_html(data, name))
    text, encoding = decode_bytes(data, name)
    if source_format == "md":
        from ingest.formats.markdown import read_markdown

        return _from_blocks(name, sha, "md", encoding, read_markdown(text))
    return SourceDocument(name, sha, "txt", encoding, clean_paragraphs(text), text)


def _from_pdf(name: str, sha: str, data: bytes) -> SourceDocument:
    """A PDF's text layer; a scan has none: its pages are OCR'd (or the error says what to
    install)."""
    from ingest.formats.pdf import read_pdf

    try:
        pdf = read_pdf(data, name)
    except NeedsOcrError as exc:  # a scan: OCR its pages, or say what to install
        from ingest.formats.ocr import ocr_pdf

        return _from_ocr(name, sha, "pdf", ocr_pdf(data, name, exc.reason))
    return SourceDocument(
        name,
        sha,
        "pdf",
        "pdf",
        clean_paragraphs(pdf.text),
        pdf.text,
        pdf.page_starts,
        tuple(pdf.warnings),
    )


def _from_docx(name: str, sha: str, data: bytes) -> SourceDocument:
    """A .docx; an old .doc saved under a .docx name goes to the legacy reader."""
    from ingest.formats.legacy_word import is_encrypted_ooxml, read_legacy_word
    from ingest.formats.word import OLE_MAGIC, read_docx

    if data.startswith(OLE_MAGIC) and not is_encrypted_ooxml(data):
        # an old .doc saved as .docx
        return _from_blocks(name, sha, "doc", "doc", read_legacy_word(data, name, ".doc"))
    return _from_blocks(name, sha, "docx", "docx", read_docx(data, name))


def _from_ocr(name: str, sha: str, source_format: str, pages) -> SourceDocument:
    """OCR'd pages (a PdfText) through the cleaner, like a PDF's text layer; a single picture has no
    page numbers."""
    page_starts = pages.page_starts if source_format == "pdf" or pages.pages > 1 else None
    return SourceDocument(
        name,
        sha,
        source_format,
        "ocr",
        clean_paragraphs(pages.text),
        pages.text,
        page_starts,
        tuple(pages.warnings),
        ocr_pages=pages.pages,
    )


def _from_blocks(
    name: str, sha: str, source_format: str, encoding: str, blocks: list[Block]
) -> SourceDocument:
    paragraphs = paragraphs_from_blocks(blocks)
    if not paragraphs:
        raise NoContentError(name, "文件中没有文字 / the file contains no text")
    return SourceDocument(name, sha, source_format, encoding, paragraphs)
