"""DOCX (python-docx) -> blocks: paragraphs, table cells and text boxes in document order.

A paragraph in a Heading/Title style (标题), with an outline level, or bold
throughout is marked as a heading; the parser makes it a title when it is
short and stands at the start of an item.

The body, tables and paragraph text are read from the XML here, because
python-docx leaves text out:
- Content controls (w:sdt) and custom XML around paragraphs, tables, rows,
  cells and runs are looked through.
- A paragraph's text is every run in it, however nested (tracked insertions,
  hyperlinks, content controls, smart tags, simple fields), as the document
  shows it with tracked changes accepted: deleted and moved-away text
  (w:del, w:moveFrom) and field codes (w:instrText) are not read; a field's
  result is.
- Every table cell (w:tc) is read once, row by row: a merged cell is one w:tc,
  so it is read where it starts; vertical-merge continuation cells are read
  where they stand (normally empty), even when there is nothing above them.
Text boxes (w:txbxContent) are read with the paragraph they are anchored in,
not as part of its text. Word saves a box twice, as a DrawingML shape
(mc:Choice) and a VML copy (mc:Fallback): only one is read.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from ingest.errors import DamagedFileError, EncryptedFileError
from ingest.formats.blocks import Block

# encrypted DOCX and old .doc files are OLE containers
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADING_STYLES = ("heading", "title", "标题")
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_TXBX, _P, _TBL, _TR, _TC, _R = (qn(f"w:{t}") for t in ("txbxContent", "p", "tbl", "tr", "tc", "r"))
# Looked through wherever they stand: around paragraphs and tables, rows, cells or runs.
_WRAPPERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
# Not read inside a paragraph: deleted and moved-away text (tracked changes accepted), ruby
# (phonetic guide) text above its base text, and properties.
_NOT_SHOWN = {qn(f"w:{t}") for t in ("del", "moveFrom", "rt", "pPr", "rPr", "sdtPr", "sdtEndPr")}
_ALTERNATE, _SYM = _MC + "AlternateContent", qn("w:sym")
# Run content -> text. w:delText, w:instrText (a field's code) and w:delInstrText are not shown.
_RUN_TEXT = {
    qn("w:t"): None,
    qn("w:tab"): "\t",
    qn("w:ptab"): "\t",
    qn("w:br"): "\n",
    qn("w:cr"): "\n",
    qn("w:noBreakHyphen"): "-",
    _SYM: None,
}


def read_docx(data: bytes, name: str) -> list[Block]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(OLE_MAGIC):
        # an old .doc under a .docx name goes to legacy_word first (documents.py)
        raise EncryptedFileError(
            name,
            "Word 文件已加密或是旧版 .doc 格式；请另存为不加密的 .docx 再导入 / "
            "encrypted or old-format Word file: save it as an unprotected .docx",
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise DamagedFileError(
            name, f"DOCX 文件已损坏或不是 Word 文档 / damaged DOCX or not a Word document ({exc})"
        ) from None
    return [b for b in _blocks(document.element.body, document._body) if b.text.strip()]


def _blocks(container: etree._Element, parent) -> list[Block]:
    """The paragraphs and tables of a body, table cell or text box. `parent` is a python-docx object
    of the same part: paragraph styles resolve through it."""
    blocks: list[Block] = []
    for element in _unwrapped(container, (_P, _TBL)):
        blocks.extend(
            _table_blocks(element, parent)
            if element.tag == _TBL
            else _paragraph_blocks(Paragraph(element, parent))
        )
    return blocks


def _unwrapped(element: etree._Element, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """The children of `element` with one of `tags`, and those inside content controls and custom
    XML."""
    for child in element:
        if child.tag in tags:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _unwrapped(child, tags)


def _table_blocks(tbl: etree._Element, parent) -> list[Block]:
    """Mastheads and item lists are often laid out in a table: read its cells row by row, each w:tc
    once.

    A horizontally merged cell is one w:tc (gridSpan). A vertically merged one is read in its first
    row (vMerge="restart"); the w:tc below it (vMerge="continue", normally empty) are read where
    they stand, so nothing is lost and nothing breaks when one has no cell above it (python-docx
    raised ValueError)."""
    blocks: list[Block] = []
    for tr in _unwrapped(tbl, (_TR,)):
        for tc in _unwrapped(tr, (_TC,)):
            blocks.extend(_blocks(tc, parent))
    return blocks


def _paragraph_blocks(paragraph: Paragraph) -> list[Block]:
    """The paragraph and the text boxes anchored in it. A box anchored before any of the paragraph's
    text (where Word anchors a floating box: at the start of the paragraph it stands by) is read
    first."""
    before: list[Block] = []
    after: list[Block] = []
    text, runs = "", {}
    for piece, element in _inline(paragraph._p):
        if piece is None:
            (after if text.strip() else before).extend(_blocks(element, paragraph))
            continue
        text += piece
        if piece.strip():
            runs[element] = None
    heading = _is_heading_style(paragraph) or _all_bold(
        [Run(r, paragraph) for r in runs], paragraph
    )
    return [*before, Block(text, heading), *after]


def _inline(
    element: etree._Element, read_text: bool = True
) -> Iterator[tuple[str | None, etree._Element]]:
    """(text, its w:r) for the text shown in a paragraph, and (None, w:txbxContent) for each text
    box anchored in it, in document order. A box's own paragraphs are not walked: they are read as
    blocks."""
    for child in element:
        tag = child.tag
        if tag == _TXBX:
            if not _superseded_fallback(child):
                yield None, child
        elif tag in _NOT_SHOWN:
            continue
        elif tag == _ALTERNATE:
            # text from the first choice only; text boxes as _superseded_fallback says
            for n, branch in enumerate(child):
                yield from _inline(branch, read_text and n == 0)
        elif tag in _RUN_TEXT and element.tag == _R:
            if read_text:
                piece = _run_text(child)
                if piece:
                    yield piece, element
        else:
            # runs, hyperlinks, w:ins, w:moveTo, w:sdt, w:smartTag, w:customXml, w:fldSimple,
            # drawings...
            yield from _inline(child, read_text)


def _run_text(element: etree._Element) -> str:
    """w:t's text; a tab; a line break (a page or column break too: it also ends a line); a hyphen.
    A w:sym is a character from a symbol font: read when it is a Unicode character, left out when it
    is a private-use code (Wingdings/Symbol glyph slots, F0xx) that shows nothing elsewhere."""
    tag = element.tag
    if tag == _SYM:
        try:
            char = chr(int(element.get(qn("w:char"), ""), 16))
        except (ValueError, OverflowError):
            return ""
        return "" if "\ue000" <= char <= "\uf8ff" else char
    text = _RUN_TEXT[tag]
    return (element.text or "") if text is None else text


def _superseded_fallback(box: etree._Element) -> bool:
    """A VML copy in mc:Fallback when the mc:Choice beside it holds the same box as DrawingML."""
    fallback = next(box.iterancestors(_MC + "Fallback"), None)
    if fallback is None:
        return False
    choices = fallback.itersiblings(_MC + "Choice", preceding=True)
    return any(next(choice.iter(_TXBX), None) is not None for choice in choices)


def _is_heading_style(paragraph) -> bool:
    style = paragraph.style
    while style is not None:
        if (style.name or "").lower().startswith(_HEADING_STYLES):
            return True
        style = style.base_style
    return bool(paragraph._p.xpath("./w:pPr/w:outlineLvl"))


def _all_bold(runs: list[Run], paragraph) -> bool:
    """Every run whose text is read (not blank) is bold."""
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
