"""PDF with a text layer -> the bulletin's printed lines, page by page.

Text comes from PDFium (pypdfium2): Chrome's PDF engine, tolerant of the
damaged files offices produce, with the CJK CMaps built in, and it tells a
wrong password from a broken file. pypdf was as correct on our test PDFs and
about as fast (both a few ms a page); pdfplumber dropped "·" from
"志成都·知未来" and was 4-10x slower (bench/compare_extractors.py).

A printed page carries lines that are not the bulletin's text: a running header
("四川省地方志工作简报") and a page number ("- 3 -", "第3页"). Both are removed
here, from the outer lines of each page only, so that the cleaner sees the
same hard-wrapped text a TXT export gives. The page each line came from is
kept as page start offsets into the returned text.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from ingest.cleaning import is_structural
from ingest.errors import DamagedFileError, EncryptedFileError, NeedsOcrError
from ingest.loading import is_readable_char

EDGE_LINES = 3  # running headers/footers sit in the first or last lines of a page
MIN_TEXT_CHARS_PER_PAGE = 20  # fewer visible characters on every page: a scan
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－·•\s]*\d{1,4}[-—–－·•\s]*"  # 3, - 3 -, — 3 —
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"  # 第3页, 第3页 共8页
    r"|\d{1,4}\s*/\s*\d{1,4}"  # 3/8
    r"|[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?)$"
)
MIN_READABLE_SHARE = 0.8  # of visible characters: Chinese, ASCII or punctuation
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class PdfText:
    text: str  # the body lines of all pages, "\n"-separated
    page_starts: tuple[int, ...]  # offset in text where each page (1, 2, ...) begins
    pages: int
    warnings: tuple[str, ...] = ()  # e.g. a page that still looks garbled: indexed, but reported


def read_pdf(data: bytes, name: str) -> PdfText:
    pages = extract_page_lines(data, name)
    check_text_layer(pages, name)
    pages = strip_running_lines(pages)
    text_parts, starts, offset = [], [], 0
    for lines in pages:
        starts.append(offset)
        for line in lines:
            text_parts.append(line)
            offset += len(line) + 1
    return PdfText("\n".join(text_parts), tuple(starts), len(pages))


def check_text_layer(pages: list[list[str]], name: str) -> None:
    """A scan has no text; a PDF whose fonts lack a Unicode map gives private-use or garbled characters."""
    visible = [sum(len(line.replace(" ", "")) for line in page) for page in pages]
    if not pages or max(visible) < MIN_TEXT_CHARS_PER_PAGE:
        raise NeedsOcrError(name, "需要OCR：PDF 没有文字层（扫描件或图片），请先做文字识别再导入 / "
                                  "needs OCR: the PDF has no text layer (scanned pages are pictures of text)")
    chars = [c for page in pages for line in page for c in line if not c.isspace()]
    readable = sum(1 for c in chars if is_readable_char(c))
    if readable / len(chars) < MIN_READABLE_SHARE:
        raise NeedsOcrError(name, "需要OCR：PDF 的文字层无法识别（乱码，字体缺少 Unicode 映射），请先做文字识别再导入 / "
                                  "needs OCR: the PDF's text layer is unreadable (fonts without a Unicode map)")


def extract_page_lines(data: bytes, name: str) -> list[list[str]]:
    """Non-empty, stripped text lines of each page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    if b"%PDF-" not in data[:1024]:
        raise DamagedFileError(name, "不是 PDF 文件（缺少 PDF 文件头）/ not a PDF file (no %PDF- header)")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_raw.FPDF_ERR_PASSWORD, pdfium_raw.FPDF_ERR_SECURITY):
            raise EncryptedFileError(name, "PDF 已加密，需要密码才能打开；请另存一份不加密的副本再导入 / "
                                           "the PDF is encrypted with a password; save an unprotected copy") from None
        raise DamagedFileError(name, "PDF 文件已损坏或不完整（可能下载或复制未完成）/ "
                                     "damaged or truncated PDF (incomplete download or copy?)") from None
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                # get_text_bounded: full Unicode (get_text_range is UCS-2 only), clipped to the page.
                raw = textpage.get_text_bounded()
            finally:
                textpage.close()
                page.close()
            raw = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
            pages.append([line.strip() for line in raw.split("\n") if line.strip()])
    except pdfium.PdfiumError:
        raise DamagedFileError(name, "PDF 页面无法读取，文件可能已损坏 / a page of the PDF cannot be read: damaged file") from None
    finally:
        document.close()
    return pages


def _repeat_key(line: str) -> str:
    """Running lines differ only in their numbers ("第3期 - 3 -"): compare without them."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))


def strip_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers and lines repeated at the top or bottom of most pages.

    Only lines at a page's outer edge are candidates, taken from the edge
    inwards, so body text that happens to repeat is kept. The top lines of
    page 1 stay even when they repeat: there they are the bulletin's masthead
    (issuer and date), which the parser reads."""
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_repeat_key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
    needed = max(2, math.ceil(len(pages) / 2))

    def running(line: str) -> bool:
        if _PAGE_NUMBER.match(line):
            return True
        # A source line "（省地方志办）" or a section marker may well end two pages: it is content.
        return len(pages) > 1 and counts[_repeat_key(line)] >= needed and not is_structural(line)

    out = []
    for number, lines in enumerate(pages):
        top, bottom = 0, len(lines)
        at_top = running if number > 0 else _PAGE_NUMBER.match  # page 1 keeps its masthead
        while top < min(EDGE_LINES, bottom) and at_top(lines[top]):
            top += 1
        while bottom > top and len(lines) - bottom < EDGE_LINES and running(lines[bottom - 1]):
            bottom -= 1
        out.append(lines[top:bottom])
    return out
