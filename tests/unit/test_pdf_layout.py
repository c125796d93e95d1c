"""PDF text in reading order: turned pages, turned content, two columns; garbled pages reported.

Each layout is a real PDF (reportlab, turned with pypdfium2 where a viewer would turn it) of a
bundled bulletin; its parse must match the bulletin's TXT: the same items, titles and date,
every sentence intact. No model needed."""

import re

import pytest

import pdf_layouts as layouts
import sample_documents as docs
from conftest import ALL, B2020, B2022, B2024
from ingest.formats.pdf import PageLines, extract_pages, page_problem, read_pdf
from ingest.pipeline import parse_file


def write_layout(kind: str, path, out):
    """The bulletin at path as a PDF of the given kind; returns the PDF's path."""
    lines = docs.original_lines(path)
    pdf = out / f"{path.stem}-{kind}.pdf"
    if kind in ("rotate90", "rotate180", "rotate270"):
        upright = out / f"{path.stem}-upright.pdf"
        docs.write_pdf(lines, upright)
        layouts.set_page_rotation(upright, pdf, int(kind.removeprefix("rotate")))
    elif kind.startswith("compensated"):  # an upright A4 page from a turned landscape media box
        layouts.write_compensated_pdf(lines, pdf, rotation=int(kind.removeprefix("compensated")))
    elif kind.startswith("landscape"):  # a landscape page from a turned portrait media box
        layouts.write_compensated_pdf(
            lines, pdf, rotation=int(kind.removeprefix("landscape")), landscape=True
        )
    elif kind.startswith("sideways"):  # printed sideways: the viewer shows the text turned
        layouts.write_compensated_pdf(
            lines, pdf, rotation=int(kind.removeprefix("sideways")), sideways=True
        )
    elif kind == "two-column":  # 16 lines a column: 3-5 pages, so the running header repeats
        layouts.write_two_column_pdf(lines, pdf, lines_per_column=16)
    elif kind == "two-column, by column":
        layouts.write_two_column_pdf(lines, pdf, lines_per_column=16, row_by_row=False)
    else:
        raise ValueError(kind)
    return pdf


def sentences(text: str) -> list[str]:
    """Sentences and clauses of at least 6 characters, whitespace removed."""
    flat = re.sub(r"\s+", "", text)
    return [s for s in re.split(r"(?<=[。！？；])", flat) if len(s) >= 6]


def assert_parses_like_txt(pdf, txt_parsed, doc_id):
    from_pdf = parse_file(pdf, doc_id)
    bulletin, txt = from_pdf.bulletin, txt_parsed.bulletin
    assert bulletin.date == txt.date and bulletin.date_source == txt.date_source
    assert [i.title for i in bulletin.items] == [i.title for i in txt.items]
    assert [(i.subtitle, i.section, i.source_org) for i in bulletin.items] == [
        (i.subtitle, i.section, i.source_org) for i in txt.items
    ]
    flat = re.sub(r"\s+", "", bulletin.text_clean)
    broken = [s for s in sentences(txt.text_clean) if s not in flat]
    assert not broken, f"{len(broken)} sentences not intact, e.g. {broken[:2]}"
    assert bulletin.text_clean == txt.text_clean
    assert from_pdf.warnings == ()
    return from_pdf


# Before reading order was handled, PDFium's text of these (five bulletins) kept 0 of 19 titles for
# rotate90, compensated90/270, landscape90 and two-column (32 and 46 of 297 sentences intact for
# rotate90 and two-column; the turned ones, sideways too, ran every line of a page together).
# rotate270 was right.
TURNED = ["rotate90", "rotate270", "compensated90", "compensated270"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_two_columns_drawn_row_by_row_read_column_by_column(parsed, tmp_path, path):
    pdf = write_layout("two-column", path, tmp_path)
    pages = extract_pages(pdf.read_bytes(), pdf.name)
    assert pages[0].laid_out
    # Page 1 (no running header): the left column read to its end, then the right one, then "- 1 -".
    assert pages[0].lines == docs.original_lines(path)[:32] + ["- 1 -"]
    assert_parses_like_txt(pdf, parsed[path], path.stem)


def test_two_columns_drawn_column_by_column(parsed, tmp_path):
    assert_parses_like_txt(
        write_layout("two-column, by column", B2024, tmp_path), parsed[B2024], B2024.stem
    )


def test_only_the_turned_page_is_laid_out(parsed, tmp_path):
    """A bulletin with one page turned in a viewer: that page is read from character boxes, the
    others keep the fast stream-order path, and the whole parses like the TXT."""
    upright = tmp_path / "upright.pdf"
    docs.write_pdf(docs.original_lines(B2020), upright)
    pdf = tmp_path / "one-turned.pdf"
    layouts.set_page_rotation(upright, pdf, 90, pages=[1])
    assert [p.laid_out for p in extract_pages(pdf.read_bytes(), pdf.name)] == [
        False,
        True,
        False,
        False,
    ]
    assert_parses_like_txt(pdf, parsed[B2020], B2020.stem)


def test_margin_stamp_running_up_the_page_stays_out_of_the_sentences(parsed, tmp_path):
    """A line turned 90 degrees in the margin is read in its own direction after the page's text
    (never inside a sentence); repeated on every page, it goes with the running headers."""
    pdf = tmp_path / "stamped.pdf"
    layouts.write_stamped_pdf(docs.original_lines(B2022), pdf, "内部资料 注意保存")
    pages = extract_pages(pdf.read_bytes(), pdf.name)
    assert all(page.lines[-1] == "内部资料 注意保存" for page in pages)
    assert_parses_like_txt(pdf, parsed[B2022], B2022.stem)


def test_bands_with_different_columns_read_band_by_band(tmp_path):
    """Three columns under one title, two under the next: no gutter runs down the whole page."""
    pdf = tmp_path / "mixed.pdf"
    order = layouts.write_mixed_columns_pdf(docs.original_lines(B2024), pdf)
    page = extract_pages(pdf.read_bytes(), pdf.name)[0]
    assert page.lines == order and page.mixed_rows == 0
    assert read_pdf(pdf.read_bytes(), pdf.name).warnings == ()


# -- warnings -------------------------------------------------------------------


def test_scrambled_page_is_indexed_with_a_warning(tmp_path):
    pdf = tmp_path / "scrambled.pdf"
    pages = layouts.write_scrambled_pdf(docs.original_lines(B2022), pdf, scrambled_pages=(2,))
    result = read_pdf(pdf.read_bytes(), pdf.name)
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert warning.startswith("第2页文字顺序可能错乱") and "已索引，请核对原文" in warning
    assert "page 2 text may be out of order" in warning and "indexed, please check" in warning
    # Still indexed: the scrambled text is there.
    assert pages[1][0] in result.text
    assert "第1页" not in warning and "第3页" not in warning


@pytest.mark.parametrize("column_step, char_step", [(24, 15), (20, 18)])
def test_vertical_text_gets_a_warning(tmp_path, column_step, char_step):
    """Chinese set vertically (top to bottom, columns right to left) is not read as lines: drawn
    character by character, it comes one character a line or in rows across the columns."""
    from reportlab.pdfgen import canvas

    docs._register_font()
    pdf_path = tmp_path / "vertical.pdf"
    text = "".join(docs.original_lines(B2022)[:12]).replace(" ", "")
    pdf = canvas.Canvas(str(pdf_path), pagesize=(layouts.A4_W, layouts.A4_H))
    pdf.setFont(docs.PDF_FONT, 14)
    for i, char in enumerate(text[:400]):
        column, row = divmod(i, 40)
        pdf.drawString(
            layouts.A4_W - 60 - column * column_step, layouts.A4_H - 60 - row * char_step, char
        )
    pdf.showPage()
    pdf.save()
    result = read_pdf(pdf_path.read_bytes(), pdf_path.name)
    assert len(result.warnings) == 1 and result.warnings[0].startswith(
        "第1页文字顺序可能错乱（文字"
    )
    assert re.search(r"page 1 text may be out of order \(text [^)]*vertically", result.warnings[0])


def test_page_problems_named():
    text = docs.original_lines(B2022)[:20]
    assert page_problem(PageLines(text)) is None
    assert page_problem(PageLines(["地方志"])) is None  # too little text to judge
    shuffled = "".join(text).replace(" ", "")
    shuffled = "".join(shuffled[i::7] for i in range(7))  # same characters, no words
    assert (
        "few real words"
        in page_problem(PageLines([shuffled[i : i + 30] for i in range(0, len(shuffled), 30)]))[1]
    )
    one_per_line = [c for c in "".join(text) if c.strip()][:100]
    assert "vertically" in page_problem(PageLines(one_per_line))[1]
    # a list of names
    names = "、".join(a + b for a in "王李张刘陈杨黄赵吴周" for b in "伟芳娜敏静丽强磊军洋")
    assert page_problem(PageLines([names[i : i + 30] for i in range(0, len(names), 30)])) is None
    assert "interleaved" in page_problem(PageLines(text, laid_out=True, mixed_rows=10))[1]
    assert "another direction" in page_problem(PageLines(text, laid_out=True, turned_chars=200))[1]
    assert "failed" in page_problem(PageLines(text, failed=True))[1]
