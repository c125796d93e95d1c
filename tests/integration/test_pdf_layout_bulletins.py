"""Every bundled bulletin as turned, landscape and ordinary PDFs parses like its TXT (whole
documents: slower)."""

import pytest

import sample_documents as docs
from conftest import ALL, B2022, B2024
from ingest.formats import pdf as pdf_module
from ingest.formats.pdf import extract_pages, read_pdf
from test_pdf_layout import TURNED, assert_parses_like_txt, write_layout  # from tests/unit


@pytest.mark.parametrize("kind", TURNED)
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_turned_pages_parse_like_the_txt(parsed, tmp_path, kind, path):
    pdf = write_layout(kind, path, tmp_path)
    pages = extract_pages(pdf.read_bytes(), pdf.name)
    assert all(page.laid_out for page in pages)  # not PDFium's stream order
    assert_parses_like_txt(pdf, parsed[path], path.stem)


@pytest.mark.parametrize(
    "kind",
    ["landscape90", "landscape270", "rotate180", "compensated180", "sideways90", "sideways270"],
)
@pytest.mark.parametrize("path", [B2022, B2024], ids=lambda p: p.name)
def test_landscape_and_upside_down_pages_parse_like_the_txt(parsed, tmp_path, kind, path):
    assert_parses_like_txt(write_layout(kind, path, tmp_path), parsed[path], path.stem)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_ordinary_bulletin_pdfs_do_not_warn(tmp_path, monkeypatch, path):
    pdf = tmp_path / "ordinary.pdf"
    docs.write_pdf(docs.original_lines(path), pdf, footer="dash" if ALL.index(path) % 2 else "cn")
    pages = extract_pages(pdf.read_bytes(), pdf.name)
    assert not any(page.laid_out for page in pages)  # the fast path, as before
    assert read_pdf(pdf.read_bytes(), pdf.name).warnings == ()
    # Read from character boxes instead, the same pages give the very same lines, and no warning.
    monkeypatch.setattr(pdf_module, "_stream_in_reading_order", lambda handle: False)
    laid_out = extract_pages(pdf.read_bytes(), pdf.name)
    assert all(page.laid_out for page in laid_out)
    assert [page.lines for page in laid_out] == [page.lines for page in pages]
    assert read_pdf(pdf.read_bytes(), pdf.name).warnings == ()
