"""DOCX (python-docx) -> blocks: paragraphs and table cells in document order.

A paragraph in a Heading/Title style (标题), with an outline level, or bold
throughout is marked as a heading; the parser makes it a title when it is
short and stands at the start of an item.
"""
from __future__ import annotations

import io
import zipfile

from ingest.errors import DamagedFileError, EncryptedFileError
from ingest.formats.blocks import Block

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted DOCX and old .doc files are OLE containers
_HEADING_STYLES = ("heading", "title", "标题")


def read_docx(data: bytes, name: str) -> list[Block]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(_OLE_MAGIC):
        raise EncryptedFileError(name, "Word 文件已加密或是旧版 .doc 格式；请另存为不加密的 .docx 再导入 / "
                                       "encrypted or old-format Word file: save it as an unprotected .docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise DamagedFileError(name, f"DOCX 文件已损坏或不是 Word 文档 / damaged DOCX or not a Word document ({exc})") from None
    blocks: list[Block] = []
    for part in document.iter_inner_content():
        if hasattr(part, "rows"):
            blocks.extend(_table_blocks(part))
        else:
            blocks.append(_paragraph_block(part))
    return [b for b in blocks if b.text.strip()]


def _table_blocks(table) -> list[Block]:
    """Mastheads are often laid out in a table: read its cells row by row, merged cells once."""
    seen, blocks = set(), []
    for row in table.rows:
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            blocks.extend(_paragraph_block(p) for p in cell.paragraphs)
            for inner in cell.tables:
                blocks.extend(_table_blocks(inner))
    return blocks


def _paragraph_block(paragraph) -> Block:
    return Block(paragraph.text, _is_heading_style(paragraph) or _all_bold(paragraph))


def _is_heading_style(paragraph) -> bool:
    style = paragraph.style
    while style is not None:
        if (style.name or "").lower().startswith(_HEADING_STYLES):
            return True
        style = style.base_style
    return bool(paragraph._p.xpath("./w:pPr/w:outlineLvl"))


def _all_bold(paragraph) -> bool:
    runs = [r for r in paragraph.runs if r.text.strip()]
    return bool(runs) and all(_run_bold(r, paragraph) for r in runs)


def _run_bold(run, paragraph) -> bool:
    """Direct formatting first, then the run's character style, then the paragraph style chain."""
    if run.bold is not None:
        return run.bold
    style = run.style
    while style is not None:
        if style.font.bold is not None:
            return style.font.bold
        style = style.base_style
    style = paragraph.style
    while style is not None:
        if style.font.bold is not None:
            return style.font.bold
        style = style.base_style
    return False
