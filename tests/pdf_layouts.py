"""PDFs whose text layer is not in reading order: rotated pages, rotated content, two columns.

Each writer lays out a bulletin's printed lines (sample_documents.original_lines)
the way sample_documents.write_pdf does: a running header from page 2 and a page
number on every page, and returns the body lines of each page.
"""

from __future__ import annotations

import random
from pathlib import Path

from sample_documents import PDF_FONT, RUNNING_HEADER, _register_font

A4_W, A4_H = 595.2756, 841.8898
LINE_STEP = 28


def _fit_size(line: str, width: float, largest: float = 15.0) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return min(largest, width / max(stringWidth(line, PDF_FONT, 1), 1))


def _header(pdf, number: int, width: float, height: float) -> None:
    """Running header from page 2, centred on the displayed page (drawn before the body)."""
    if number > 1:
        pdf.setFont(PDF_FONT, 9)
        pdf.drawCentredString(width / 2, height - 40, RUNNING_HEADER)


def _footer(pdf, number: int, width: float) -> None:
    """Page number, centred (drawn after the body, as write_pdf does)."""
    pdf.setFont(PDF_FONT, 9)
    pdf.drawCentredString(width / 2, 30, f"- {number} -")


def _upright(pdf, rotation: int, width: float, height: float) -> None:
    """Make the canvas draw in the coordinates of the displayed page when the page has /Rotate
    rotation.

    A viewer turns the page clockwise by /Rotate; the content is drawn turned the other way."""
    if rotation == 90:  # media box is height x width; displayed (x, y) is user (height - y, x)
        pdf.translate(height, 0)
        pdf.rotate(90)
    elif rotation == 180:
        pdf.translate(width, height)
        pdf.rotate(180)
    elif rotation == 270:  # displayed (x, y) is user (y, width - x)
        pdf.translate(0, width)
        pdf.rotate(-90)


def write_compensated_pdf(
    lines: list[str],
    out: Path,
    *,
    rotation: int = 90,
    landscape: bool = False,
    sideways: bool = False,
    lines_per_page: int | None = None,
) -> list[list[str]]:
    """Pages stored turned, the content drawn turned back and /Rotate set so that a viewer shows
    the text upright: what scanners and "rotate page" in some editors produce. In page space the
    lines run up or down the page (for 90 and 270).

    landscape=False: an upright A4 page shown from a landscape media box; landscape=True: a
    landscape page (a wide table page, say) shown from a portrait media box. sideways=True: the
    same content without /Rotate, so a viewer shows it turned (a page printed sideways)."""
    from reportlab.pdfgen import canvas

    _register_font()
    width, height = (A4_H, A4_W) if landscape else (A4_W, A4_H)  # as the text stands upright
    lines_per_page = lines_per_page or (16 if landscape else 24)
    # reportlab takes the displayed size and writes the media box turned for 90 and 270.
    if sideways and rotation in (90, 270):
        pdf = canvas.Canvas(str(out), pagesize=(height, width))
    else:
        pdf = canvas.Canvas(str(out), pagesize=(width, height))
        pdf.setPageRotation(0 if sideways else rotation)
    pages = []
    for start in range(0, len(lines), lines_per_page):
        body = lines[start : start + lines_per_page]
        pages.append(body)
        pdf.saveState()
        _upright(pdf, rotation, width, height)
        _header(pdf, len(pages), width, height)
        y = height - 80
        for line in body:
            pdf.setFont(PDF_FONT, _fit_size(line, A4_W - 100))
            pdf.drawString(60, y, line)
            y -= LINE_STEP
        _footer(pdf, len(pages), width)
        pdf.restoreState()
        pdf.showPage()
    pdf.save()
    return pages


def set_page_rotation(src: Path, out: Path, rotation: int, pages: list[int] | None = None) -> None:
    """Save a copy of a PDF with /Rotate set on its pages (all, or the 0-based pages given),
    as a viewer's "rotate page" and save does: the content is untouched, so it shows turned."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(src))
    try:
        for index in range(len(document)) if pages is None else pages:
            page = document[index]
            page.set_rotation(rotation)
            page.close()
        document.save(str(out))
    finally:
        document.close()


def write_two_column_pdf(
    lines: list[str], out: Path, *, lines_per_column: int = 40, row_by_row: bool = True
) -> list[list[str]]:
    """A4 pages with two columns of the printed lines (left column first, then the right one),
    the header and page number spanning both. row_by_row: the content stream draws left line 1,
    right line 1, left line 2, ..., as some layout programs do, so stream order interleaves them."""
    from reportlab.pdfgen import canvas

    _register_font()
    pdf = canvas.Canvas(str(out), pagesize=(A4_W, A4_H))
    column_width, gutter, margin = 245.0, 45.0, 30.0
    step = 18
    pages = []
    per_page = 2 * lines_per_column
    for start in range(0, len(lines), per_page):
        body = lines[start : start + per_page]
        pages.append(body)
        _header(pdf, len(pages), A4_W, A4_H)
        left, right = body[:lines_per_column], body[lines_per_column:]
        slots = []
        for row in range(lines_per_column):
            for column, part in ((0, left), (1, right)):
                if row < len(part):
                    slots.append((row, column, part[row]))
        if not row_by_row:
            slots.sort(key=lambda s: (s[1], s[0]))
        for row, column, line in slots:
            pdf.setFont(PDF_FONT, _fit_size(line, column_width, 8.0))
            pdf.drawString(margin + column * (column_width + gutter), A4_H - 70 - row * step, line)
        _footer(pdf, len(pages), A4_W)
        pdf.showPage()
    pdf.save()
    return pages


def write_scrambled_pdf(
    lines: list[str],
    out: Path,
    *,
    scrambled_pages: tuple[int, ...] = (2,),
    lines_per_page: int = 24,
    seed: int = 7,
) -> list[list[str]]:
    """Upright A4 pages; on the given pages (1-based) the characters of the body are shuffled,
    as a PDF whose fonts map glyphs to the wrong (but real) Chinese characters reads: every line
    is made of real characters, in no language."""
    from reportlab.pdfgen import canvas

    _register_font()
    pdf = canvas.Canvas(str(out), pagesize=(A4_W, A4_H))
    rng = random.Random(seed)
    pages = []
    for start in range(0, len(lines), lines_per_page):
        body = lines[start : start + lines_per_page]
        number = len(pages) + 1
        if number in scrambled_pages:
            chars = [c for c in "".join(body) if not c.isspace()]
            rng.shuffle(chars)
            body = ["".join(chars[i : i + 30]) for i in range(0, len(chars), 30)]
        pages.append(body)
        _header(pdf, number, A4_W, A4_H)
        y = A4_H - 80
        for line in body:
            pdf.setFont(PDF_FONT, _fit_size(line, A4_W - 100))
            pdf.drawString(60, y, line)
            y -= LINE_STEP
        _footer(pdf, number, A4_W)
        pdf.showPage()
    pdf.save()
    return pages


def render_page(pdf: Path, index: int, out: Path, scale: float = 0.6) -> None:
    """A picture of a page as a viewer shows it (for looking at a layout while writing tests)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        page = document[index]
        page.render(scale=scale).to_pil().save(out)
        page.close()
    finally:
        document.close()


def write_stamped_pdf(
    lines: list[str], out: Path, stamp: str, *, lines_per_page: int = 24
) -> list[list[str]]:
    """Upright A4 pages with a line of text running up the left margin on each page (a
    "内部资料" stamp, a filing note), as offices add them."""
    from reportlab.pdfgen import canvas

    _register_font()
    pdf = canvas.Canvas(str(out), pagesize=(A4_W, A4_H))
    pages = []
    for start in range(0, len(lines), lines_per_page):
        body = lines[start : start + lines_per_page]
        pages.append(body)
        _header(pdf, len(pages), A4_W, A4_H)
        y = A4_H - 80
        for line in body:
            pdf.setFont(PDF_FONT, _fit_size(line, A4_W - 100))
            pdf.drawString(60, y, line)
            y -= LINE_STEP
        pdf.saveState()
        pdf.translate(35, A4_H / 2 - 60)
        pdf.rotate(90)
        pdf.setFont(PDF_FONT, 12)
        pdf.drawString(0, 0, stamp)
        pdf.restoreState()
        _footer(pdf, len(pages), A4_W)
        pdf.showPage()
    pdf.save()
    return pages


def write_mixed_columns_pdf(lines: list[str], out: Path) -> list[str]:
    """One A4 page: a title, three columns, another title, two columns, each drawn row by row.
    No single gutter runs down the page (the two-column lines cross the three-column gutters and
    the other way round). Returns the lines in reading order."""
    from reportlab.pdfgen import canvas

    _register_font()
    pdf = canvas.Canvas(str(out), pagesize=(A4_W, A4_H))
    order, used = [], 0
    y = A4_H - 50
    for title, count, width, step in (
        ("跨栏标题一", 3, 160.0, 190.0),
        ("跨栏标题二", 2, 250.0, 290.0),
    ):
        pdf.setFont(PDF_FONT, 14)
        pdf.drawCentredString(A4_W / 2, y, title)
        order.append(title)
        columns = [lines[used + i * 10 : used + (i + 1) * 10] for i in range(count)]
        used += 10 * count
        y -= 30
        for row in range(10):
            for number, column in enumerate(columns):
                pdf.setFont(PDF_FONT, _fit_size(column[row], width, 7.0))
                pdf.drawString(25 + number * step, y - row * 16, column[row])
        y -= 10 * 16 + 30
        order += [line for column in columns for line in column]
    pdf.showPage()
    pdf.save()
    return order
