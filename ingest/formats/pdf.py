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

Reading order. PDFium gives a page's characters in content-stream order and
breaks lines where that order jumps; that is the visual order for an ordinary
upright, single-column page, which is read that way (the fast path). A page
that is turned (/Rotate), whose text is drawn turned (a landscape page put
upright by /Rotate), or whose lines are not drawn top to bottom in one column
(two columns drawn row by row) is laid out again from character boxes: the
boxes are turned so that the page's text runs left to right, characters are
grouped into lines by baseline, columns are split at a vertical gutter, and
lines are read top to bottom, column by column (`_layout_lines`). A page whose
text still reads like nonsense is kept but reported in PdfText.warnings.
"""

from __future__ import annotations

import ctypes
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ingest.cleaning import is_structural
from ingest.errors import DamagedFileError, EncryptedFileError, NeedsOcrError
from ingest.loading import is_readable_char

logger = logging.getLogger(__name__)

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
    extracted = extract_pages(data, name)
    pages = [page.lines for page in extracted]
    check_text_layer(pages, name)
    warnings = tuple(
        w for number, page in enumerate(extracted, start=1) if (w := page_warning(number, page))
    )
    pages = strip_running_lines(pages)
    text_parts, starts, offset = [], [], 0
    for lines in pages:
        starts.append(offset)
        for line in lines:
            text_parts.append(line)
            offset += len(line) + 1
    return PdfText("\n".join(text_parts), tuple(starts), len(pages), warnings)


def check_text_layer(pages: list[list[str]], name: str) -> None:
    """A scan has no text; a PDF whose fonts lack a Unicode map gives private-use or garbled
    characters."""
    visible = [sum(len(line.replace(" ", "")) for line in page) for page in pages]
    if not pages or max(visible) < MIN_TEXT_CHARS_PER_PAGE:
        raise NeedsOcrError(
            name,
            "需要OCR：PDF 没有文字层（扫描件或图片），请先做文字识别再导入 / "
            "needs OCR: the PDF has no text layer (scanned pages are pictures of text)",
        )
    chars = [c for page in pages for line in page for c in line if not c.isspace()]
    readable = sum(1 for c in chars if is_readable_char(c))
    if readable / len(chars) < MIN_READABLE_SHARE:
        raise NeedsOcrError(
            name,
            "需要OCR：PDF 的文字层无法识别（乱码，字体缺少 Unicode 映射），请先做文字识别再导入 / "
            "needs OCR: the PDF's text layer is unreadable (fonts without a Unicode map)",
        )


@dataclass(frozen=True)
class PageLines:
    lines: list[str]  # non-empty, stripped text lines in reading order
    # read from character boxes (turned, columns, ...) rather than in stream order
    laid_out: bool = False
    # lines that still join long runs of text across a wide gap (unsplit columns?)
    mixed_rows: int = 0
    turned_chars: int = 0  # characters running in another direction than the page's text
    # share of characters set apart from their neighbour on the line (vertical text?)
    apart: float = 0.0
    failed: bool = False  # the layout analysis failed: read in stream order


def extract_page_lines(data: bytes, name: str) -> list[list[str]]:
    """Non-empty, stripped text lines of each page, in reading order."""
    return [page.lines for page in extract_pages(data, name)]


def extract_pages(data: bytes, name: str) -> list[PageLines]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    if b"%PDF-" not in data[:1024]:
        raise DamagedFileError(
            name, "不是 PDF 文件（缺少 PDF 文件头）/ not a PDF file (no %PDF- header)"
        )
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_raw.FPDF_ERR_PASSWORD, pdfium_raw.FPDF_ERR_SECURITY):
            raise EncryptedFileError(
                name,
                "PDF 已加密，需要密码才能打开；请另存一份不加密的副本再导入 / "
                "the PDF is encrypted with a password; save an unprotected copy",
            ) from None
        raise DamagedFileError(
            name,
            "PDF 文件已损坏或不完整（可能下载或复制未完成）/ "
            "damaged or truncated PDF (incomplete download or copy?)",
        ) from None
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                pages.append(_page_lines(page, textpage))
            finally:
                textpage.close()
                page.close()
    except pdfium.PdfiumError:
        raise DamagedFileError(
            name,
            "PDF 页面无法读取，文件可能已损坏 / a page of the PDF cannot be read: damaged file",
        ) from None
    finally:
        document.close()
    return pages


def _clean_lines(lines) -> list[str]:
    lines = (_CONTROL.sub("", line).strip() for line in lines)
    return [line for line in lines if line]


def _page_lines(page, textpage) -> PageLines:
    import pypdfium2.raw as pdfium_raw

    # /Rotate in clockwise quarter turns, -1 on error
    rotation = pdfium_raw.FPDFPage_GetRotation(page.raw)
    quarter_turns = rotation % 4 if rotation > 0 else 0
    if quarter_turns == 0 and _stream_in_reading_order(textpage.raw):
        return PageLines(_stream_lines(textpage))
    try:
        return _layout_lines(page, textpage, quarter_turns)
    except (
        ArithmeticError,
        LookupError,
        ValueError,
    ):
        # a bug here must not lose the page: report it
        logger.exception("PDF layout analysis failed; reading the page in stream order")
        return PageLines(_stream_lines(textpage), failed=True)


def _stream_lines(textpage) -> list[str]:
    # get_text_bounded: full Unicode (get_text_range is UCS-2 only), clipped to the page.
    raw = textpage.get_text_bounded()
    return _clean_lines(raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


# -- the fast path: is the stream order the reading order? -------------------

_UPRIGHT_ANGLE = 0.02  # radians: PDFium's angle of an unturned character is 0
_LINE_GAP_EMS = 1.5  # a wider gap inside a line may be a column gutter


def _stream_in_reading_order(handle) -> bool:
    """True when PDFium's own lines are upright, each on one baseline, without wide gaps, and come
    top to bottom: then its text is the page as read. Costs a few calls per line, not per character.

    Any doubt (rotated characters, two lines on one baseline, a line above the previous one, a
    character PDFium's text view skips or a non-BMP one) answers False: the layout path is slower
    but reads every page correctly."""
    import pypdfium2.raw as r

    count = r.FPDFText_CountChars(handle)
    if count <= 0:
        return True
    last = r.FPDFText_GetTextIndexFromCharIndex(handle, count - 1)
    if last < 0 or r.FPDFText_GetTextIndexFromCharIndex(handle, 0) != 0:
        return False
    buffer = (ctypes.c_ushort * (last + 2))()
    written = r.FPDFText_GetText(handle, 0, count, buffer)
    units = buffer[: max(written - 1, 0)]
    if len(units) != last + 1 or any(0xD800 <= u <= 0xDFFF for u in units):
        return False
    text = "".join(map(chr, units))
    box = r.FS_RECTF()
    box_ref = ctypes.byref(box)

    def char_box(text_index: int):
        index = r.FPDFText_GetCharIndexFromTextIndex(handle, text_index)
        if index < 0 or not r.FPDFText_GetLooseCharBox(handle, index, box_ref):
            return None
        angle = r.FPDFText_GetCharAngle(handle, index)
        if not (0 <= angle < _UPRIGHT_ANGLE or angle > 2 * math.pi - _UPRIGHT_ANGLE):
            return None
        return box.left, box.bottom, box.right, max(box.top - box.bottom, 1.0)

    previous_bottom = None
    for match in re.finditer(r"[^\r\n]+", text):
        words = [
            (m.start() + match.start(), m.end() + match.start())
            for m in re.finditer(r"\S+", match.group())
        ]
        if not words:
            continue
        first = char_box(words[0][0])
        last_box = char_box(words[-1][1] - 1)
        if first is None or last_box is None:
            return False
        em = max(first[3], last_box[3])
        if abs(first[1] - last_box[1]) > 0.3 * em or last_box[2] < first[0]:
            return False  # not one left-to-right line
        for (_, end), (start, _) in zip(words, words[1:]):  # a wide space inside the line: columns?
            before, after = char_box(end - 1), char_box(start)
            if (
                before is None
                or after is None
                or after[0] - before[2] > _LINE_GAP_EMS * max(before[3], after[3])
            ):
                return False
        if previous_bottom is not None and first[1] > previous_bottom - 0.5 * em:
            return False  # level with or above the line before: stream order is not top to bottom
        previous_bottom = first[1]
    return True


# -- the layout path: lines from character boxes ------------------------------


class _Glyph:
    __slots__ = ("index", "text", "space", "prev", "x0", "x1", "y0", "y1", "h")

    def __init__(self, index, text, space, prev, x0, y0, x1, y1):
        self.index, self.text, self.space, self.prev = index, text, space, prev
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.h = max(y1 - y0, 0.5)


class _Segment:
    """Characters of one line with no wide gap; `row` is shared by segments on one baseline."""

    __slots__ = ("glyphs", "row", "x0", "x1", "y0", "y1", "h", "n")

    def __init__(self, glyphs, row):
        self.glyphs, self.row = glyphs, row
        self.x0 = min(g.x0 for g in glyphs)
        self.x1 = max(g.x1 for g in glyphs)
        self.y0 = min(g.y0 for g in glyphs)
        self.y1 = max(g.y1 for g in glyphs)
        self.h = sorted(g.h for g in glyphs)[len(glyphs) // 2]
        self.n = len(glyphs)

    def text(self) -> str:
        parts = [self.glyphs[0].text]
        for a, b in zip(self.glyphs, self.glyphs[1:]):
            if b.prev == a.index:
                # neighbours in the stream: the spaces the PDF has between them
                parts.append(b.space)
            elif b.x0 - a.x1 > 0.45 * max(a.h, b.h):
                parts.append(" ")
            parts.append(b.text)
        return "".join(parts)


def _turn(x: float, y: float, quarter_turns: int) -> tuple[float, float]:
    """(x, y) turned counter-clockwise by quarter_turns * 90 degrees about the origin."""
    if quarter_turns == 1:
        return -y, x
    if quarter_turns == 2:
        return -x, -y
    if quarter_turns == 3:
        return y, -x
    return x, y


def _framed(raw_glyph, quarter_turns: int) -> _Glyph:
    index, text, space, prev, left, bottom, right, top = raw_glyph
    ax, ay = _turn(left, bottom, quarter_turns)
    bx, by = _turn(right, top, quarter_turns)
    return _Glyph(index, text, space, prev, min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))


def _read_glyphs(page, handle):
    """(index, char, spaces before it, previous visible index, loose box) per visible character on
    the page, and each one's writing direction in quarter turns counter-clockwise from left-to-right
    in page space."""
    import pypdfium2.raw as r

    bbox = r.FS_RECTF()
    if not r.FPDF_GetPageBoundingBox(page.raw, ctypes.byref(bbox)):
        bbox = None
    box = r.FS_RECTF()
    box_ref = ctypes.byref(box)
    get_unicode, get_box, get_angle, is_generated = (
        r.FPDFText_GetUnicode,
        r.FPDFText_GetLooseCharBox,
        r.FPDFText_GetCharAngle,
        r.FPDFText_IsGenerated,
    )
    glyphs, directions = [], []
    space, prev = "", -1
    for index in range(r.FPDFText_CountChars(handle)):
        code = get_unicode(handle, index)
        if not 0 < code <= 0x10FFFF:
            continue
        char = chr(code)
        if char in "\r\n":
            continue
        if char.isspace():
            space += " " if is_generated(handle, index) else char
            continue
        if code < 0x20 and is_generated(handle, index):
            continue
        if not get_box(handle, index, box_ref):
            continue
        left, bottom, right, top = box.left, box.bottom, box.right, box.top
        if bbox is not None and not (
            bbox.left - 1 <= (left + right) / 2 <= bbox.right + 1
            and bbox.bottom - 1 <= (bottom + top) / 2 <= bbox.top + 1
        ):
            continue  # outside the page, as get_text_bounded clips it
        angle = get_angle(handle, index)  # clockwise, radians
        directions.append(round(-angle / (math.pi / 2)) % 4 if angle >= 0 else 0)
        glyphs.append((index, char, space, prev, left, bottom, right, top))
        space, prev = "", index
    return glyphs, directions


def _layout_lines(page, textpage, page_turns: int) -> PageLines:
    """Lines as a reader of the upright page sees them: see the module docstring."""
    raw_glyphs, directions = _read_glyphs(page, textpage.raw)
    if not raw_glyphs:
        return PageLines([], laid_out=True)
    # Writing directions as displayed (the viewer turns the page clockwise by /Rotate); the most
    # common one is turned to run left to right, preferring the displayed orientation on a tie.
    shown = Counter((d - page_turns) % 4 for d in directions)
    main = max(shown, key=lambda d: (shown[d], d == 0, -d))
    # page space -> the upright frame, counter-clockwise quarter turns
    frame = (-page_turns - main) % 4
    body, others = [], {}
    for raw_glyph, direction in zip(raw_glyphs, directions):
        shown_direction = (direction - page_turns) % 4
        if shown_direction == main:
            body.append(_framed(raw_glyph, frame))
        else:
            others.setdefault(shown_direction, []).append(raw_glyph)
    lines, mixed = [], 0
    segments = _segments(body)
    # a space between them: apart on purpose
    neighbours = [
        (a, b)
        for s in segments
        for a, b in zip(s.glyphs, s.glyphs[1:])
        if not (b.prev == a.index and b.space)
    ]
    apart = sum(1 for a, b in neighbours if b.x0 - a.x1 > 0.3 * max(a.h, b.h))
    for block in _order(segments, 0):
        by_row: dict[int, list[_Segment]] = {}
        for segment in block:
            by_row.setdefault(segment.row, []).append(segment)
        for _, row in sorted(by_row.items()):  # rows are numbered top to bottom
            row.sort(key=lambda s: s.x0)
            mixed += sum(
                1
                for a, b in zip(row, row[1:])
                if a.n >= _COLUMN_LINE_CHARS and b.n >= _COLUMN_LINE_CHARS
            )
            lines.append(" ".join(s.text() for s in row))
    # Text in another direction (a stamp up the margin, a turned table): read in its own direction,
    # after the page's text, top to bottom, so that it cannot cut through a sentence.
    turned = []
    for direction, group in others.items():
        own = (-page_turns - direction) % 4
        for segment in _segments([_framed(g, own) for g in group]):
            indexes = {x.index for x in segment.glyphs}
            placed = [_framed(g, frame) for g in group if g[0] in indexes]
            turned.append((-max(g.y1 for g in placed), min(g.x0 for g in placed), segment.text()))
    lines += [text for _, _, text in sorted(turned)]
    return PageLines(
        _clean_lines(lines),
        laid_out=True,
        mixed_rows=mixed,
        turned_chars=len(raw_glyphs) - len(body),
        apart=apart / max(len(neighbours), 1),
    )


def _group_rows(glyphs: list[_Glyph]) -> list[list[_Glyph]]:
    """Characters on one baseline (the bottom of their font box), top row first, each left to
    right."""
    glyphs = sorted(glyphs, key=lambda g: (-g.y0, g.x0))
    rows: list[list[_Glyph]] = []
    anchor = None
    for glyph in glyphs:
        if anchor is None or anchor.y0 - glyph.y0 > 0.3 * max(anchor.h, glyph.h):
            rows.append([])
            anchor = glyph
        rows[-1].append(glyph)
    for row in rows:
        row.sort(key=lambda g: g.x0)
        # The same character drawn twice on itself (fake bold): keep one.
        row[:] = [
            g
            for i, g in enumerate(row)
            if not (i and g.text == row[i - 1].text and abs(g.x0 - row[i - 1].x0) < 0.2 * g.h)
        ]
    return rows


def _split_row(row: list[_Glyph], row_id: int) -> list[_Segment]:
    """A row cut where the gap between two characters could be a column gutter."""
    segments, start = [], 0
    for i in range(1, len(row)):
        a, b = row[i - 1], row[i]
        if b.x0 - a.x1 > _LINE_GAP_EMS * max(a.h, b.h):
            segments.append(_Segment(row[start:i], row_id))
            start = i
    segments.append(_Segment(row[start:], row_id))
    return segments


def _segments(glyphs: list[_Glyph]) -> list[_Segment]:
    """Rows split at wide gaps; a segment's `row` numbers its row from the top."""
    return [
        segment
        for number, row in enumerate(_group_rows(glyphs))
        for segment in _split_row(row, number)
    ]


_COLUMN_LINE_CHARS = 5  # a column's lines are text, not table cells or a date beside a name
_MAX_COLUMN_DEPTH = 3


def _order(segments: list[_Segment], depth: int) -> list[list[_Segment]]:
    """Blocks of segments in reading order. Where a gutter splits the page, text between two
    lines that span it (a header, a title across both columns, the page number) is read left
    column first, then right; each column may split again. Where no gutter runs down the whole
    page but the page falls into bands (cut at wide vertical gaps) that have columns, each band
    is read in turn (three columns under one title, two under the next)."""
    if depth >= _MAX_COLUMN_DEPTH:
        return [segments]
    gutter = _find_gutter(segments)
    if gutter is None:
        bands = _bands(segments)
        if len(bands) > 1 and any(_find_gutter(band) for band in bands):
            return [block for band in bands for block in _order(band, depth + 1)]
        return [segments]
    blocks: list[list[_Segment]] = []
    left: list[_Segment] = []
    right: list[_Segment] = []
    for segment in sorted(segments, key=lambda s: (s.row, s.x0)):
        side = _side(segment, gutter)
        if side == 0:
            blocks += _order(left, depth + 1) if left else []
            blocks += _order(right, depth + 1) if right else []
            left, right = [], []
            blocks.append([segment])
        else:
            (left if side < 0 else right).append(segment)
    blocks += _order(left, depth + 1) if left else []
    blocks += _order(right, depth + 1) if right else []
    return blocks


def _bands(segments: list[_Segment]) -> list[list[_Segment]]:
    """The segments cut into horizontal bands where the gap between two rows is well above the
    usual."""
    rows: dict[int, list[_Segment]] = {}
    for segment in segments:
        rows.setdefault(segment.row, []).append(segment)
    ordered = [rows[number] for number in sorted(rows)]
    if len(ordered) < 3:
        return [segments]
    tops = [max(s.y1 for s in row) for row in ordered]
    bottoms = [min(s.y0 for s in row) for row in ordered]
    gaps = [bottoms[i] - tops[i + 1] for i in range(len(ordered) - 1)]
    usual = sorted(gaps)[len(gaps) // 2]
    em = sorted(s.h for s in segments)[len(segments) // 2]
    wide = max(1.8 * usual, usual + 0.8 * em)
    bands, current = [], list(ordered[0])
    for gap, row in zip(gaps, ordered[1:]):
        if gap > wide:
            bands.append(current)
            current = []
        current.extend(row)
    bands.append(current)
    return bands


def _side(segment: _Segment, gutter: tuple[float, float]) -> int:
    """-1 left of the gutter, 1 right of it, 0 across it (or inside it: a centred page number)."""
    g0, g1 = gutter
    middle = (g0 + g1) / 2
    if segment.x1 <= middle:
        return -1 if segment.x0 < g0 else 0
    if segment.x0 >= middle:
        return 1 if segment.x1 > g1 else 0
    if segment.x0 < g0 and segment.x1 > g1:
        return 0
    return -1 if (segment.x0 + segment.x1) / 2 < middle else 1


def _find_gutter(segments: list[_Segment]) -> tuple[float, float] | None:
    """A vertical strip that at most a few lines cross (a header, a title over both columns, the
    page number), with lines of text on both sides of it, side by side. Returns the widest such
    strip (x0, x1), or None.

    A single-column page has no such strip inside its text: its full lines cross every x. Two
    columns are found even when one holds a single line (the end of an article); a table of long
    cells would be read column by column too."""
    if len(segments) < 3:
        return None
    em = sorted(s.h for s in segments)[len(segments) // 2]
    limit = max(3, int(0.2 * len({s.row for s in segments})))  # lines allowed across it
    best, best_score = None, None
    for strip in _clear_strips(segments, limit):
        if strip[1] - strip[0] < 0.8 * em:
            continue
        score = _gutter_score(segments, strip, limit)
        if score is not None and (best_score is None or score > best_score):
            best, best_score = strip, score
    return best


def _clear_strips(segments: list[_Segment], limit: int) -> list[tuple[float, float]]:
    """Strips of x that at most `limit` lines cross and where no line of text starts or ends."""
    # Stretches of x that at most `limit` lines cover...
    events = sorted([(s.x0, 1) for s in segments] + [(s.x1, -1) for s in segments])
    runs: list[list[float]] = []
    cover, x_prev = 0, None
    for x, delta in events:
        if x_prev is not None and x > x_prev and cover <= limit:
            if runs and runs[-1][1] == x_prev:
                runs[-1][1] = x
            else:
                runs.append([x_prev, x])
        cover += delta
        x_prev = x
    # ... cut where a line of text starts or ends: a gutter has none (only lines across it), while a
    # column with a single line (the end of an article) is sparse too.
    edges = sorted({e for s in segments if s.n >= _COLUMN_LINE_CHARS for e in (s.x0, s.x1)})
    strips = []
    for a, b in runs:
        cuts = [a] + [e for e in edges if a < e < b] + [b]
        strips.extend(zip(cuts, cuts[1:]))
    return strips


def _gutter_score(
    segments: list[_Segment], strip: tuple[float, float], limit: int
) -> tuple[float, int] | None:
    """How good a gutter the strip is (wider first, then more text on its thinner side), or None
    when it is not one: lines of text must stand on both sides of it, side by side."""
    sides: dict[int, list[_Segment]] = {-1: [], 0: [], 1: []}
    for segment in segments:
        sides[_side(segment, strip)].append(segment)
    left, right = sides[-1], sides[1]
    if not left or not right or len(sides[0]) > limit:
        return None
    if (
        min(sorted(s.n for s in side)[len(side) // 2] for side in (left, right))
        < _COLUMN_LINE_CHARS
    ):
        return None  # short pieces: a name beside a date, table cells, not columns of text
    lines_left = [s for s in left if s.n >= _COLUMN_LINE_CHARS]
    lines_right = [s for s in right if s.n >= _COLUMN_LINE_CHARS]
    if max(len(lines_left), len(lines_right)) < 3:
        return None  # too little text to call it columns
    top = min(max(s.y1 for s in lines_left), max(s.y1 for s in lines_right))
    bottom = max(min(s.y0 for s in lines_left), min(s.y0 for s in lines_right))
    shorter = min(
        max(s.y1 for s in side) - min(s.y0 for s in side) for side in (lines_left, lines_right)
    )
    if top - bottom < 0.5 * shorter:
        return None  # one above the other, not side by side
    # The widest clear strip is the gutter (narrower ones lie where a column's lines end
    # raggedly).
    return (strip[1] - strip[0], min(sum(s.n for s in left), sum(s.n for s in right)))


# -- does the page read like text? --------------------------------------------

_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]")
# a clause, not a name
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]{5,}")
MIN_JUDGED_CHARS = 60  # fewer Chinese characters on a page: too few to judge
# pairs inside runs of 5+ Chinese characters: fewer (a list of names) is not judged
MIN_JUDGED_PAIRS = 40
MIN_KNOWN_BIGRAMS = 0.35  # share of those pairs that begin a dictionary word
# pairs of Chinese neighbours on a line per Chinese character (names of 2: 0.5)
MIN_PAIRED_CHARS = 0.3
MIN_MIXED_ROWS = 4
# of a page's characters running in another direction: more is not a margin note
MAX_TURNED_SHARE = 0.2


@lru_cache(maxsize=1)
def _word_starts() -> frozenset[str]:
    """The first two characters of every word of two or more in jieba's dictionary (~180,000).

    Of the adjacent pairs inside runs of 5+ Chinese characters, ordinary bulletin pages have
    52-69% in this set, the same characters shuffled 9-21% (the five bundled bulletins, page by
    page, five shuffles each), so a page below 35% reads as nonsense: characters out of order, or
    a font that maps glyphs to the wrong characters. Short runs are left out: a list of people's
    names (2-3 characters between 、) has few dictionary words and is not garbled. Read from the
    dictionary file (0.2 s, once per process) without loading jieba itself."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(list(spec.submodule_search_locations)[0]) / "dict.txt"
    starts = set()
    try:
        with open(path, encoding="utf-8") as dictionary:
            for line in dictionary:  # "word frequency tag"
                if len(line) > 1 and not line[1].isspace():
                    starts.add(line[:2])
    except OSError:
        return frozenset()
    return frozenset(starts)


def page_problem(page: PageLines) -> tuple[str, str] | None:
    """Why a page's text may be out of order, in Chinese and English; None when it reads
    normally."""
    if page.failed:
        return "版面分析出错，按文件内顺序读取", "layout analysis failed; read in file order"
    chars = sum(len(_CJK_CHAR.findall(line)) for line in page.lines)
    if page.mixed_rows >= MIN_MIXED_ROWS and page.mixed_rows >= 0.25 * len(page.lines):
        return "多栏文字可能交错", "columns may be interleaved"
    if chars < MIN_JUDGED_CHARS:
        return None
    if page.turned_chars > MAX_TURNED_SHARE * sum(
        len(line.replace(" ", "")) for line in page.lines
    ):
        return "部分文字竖排或方向不同", "part of the text runs vertically or in another direction"
    pairs = [
        line[i : i + 2]
        for line in page.lines
        for i in range(len(line) - 1)
        if _CJK_CHAR.match(line[i]) and _CJK_CHAR.match(line[i + 1])
    ]
    if len(pairs) < MIN_PAIRED_CHARS * chars:
        return "文字竖排或逐字断行", "text runs vertically or one character per line"
    starts = _word_starts()
    in_runs = [
        run[i : i + 2]
        for line in page.lines
        for run in _CJK_RUN.findall(line)
        for i in range(len(run) - 1)
    ]
    if (
        starts
        and len(in_runs) >= MIN_JUDGED_PAIRS
        and sum(1 for pair in in_runs if pair in starts) < MIN_KNOWN_BIGRAMS * len(in_runs)
    ):
        if page.apart > 0.5:
            # lines of characters standing apart: columns of vertical text read across
            return "文字可能竖排", "text may be set vertically"
        return "词语很少，字序可能错乱", "few real words: characters may be out of order"
    return None


def page_warning(number: int, page: PageLines) -> str | None:
    problem = page_problem(page)
    if problem is None:
        return None
    chinese, english = problem
    return (
        f"第{number}页文字顺序可能错乱（{chinese}），已索引，请核对原文 / "
        f"page {number} text may be out of order ({english}); indexed, please check"
    )


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
