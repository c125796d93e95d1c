"""How the format libraries were chosen: PDF text extractors and HTML article extractors,
on the test documents built from the five bundled bulletins. Prints numbers; asserts nothing.

    pip install pypdf pdfplumber trafilatura   # the candidates not in the project's dependencies
    python bench/compare_extractors.py

PDF: per library, pages whose extracted lines differ from the printed lines, and
the time to extract all pages. HTML: per extractor, bulletin paragraphs
recovered, page-chrome paragraphs kept, and pages whose parse gives the same
items as the TXT.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sample_documents as docs
from conftest import ALL
from ingest.formats.blocks import Block, paragraphs_from_blocks
from ingest.formats.web import read_html
from ingest.parsing import BulletinParser
from ingest.pipeline import parse_file
from ingest.places import load_gazetteer

REPEATS = 5


def pdf_pypdfium2(path):
    from ingest.formats.pdf import extract_page_lines

    return extract_page_lines(Path(path).read_bytes(), str(path))


def pdf_pypdf(path):
    import pypdf

    return [_lines(page.extract_text()) for page in pypdf.PdfReader(path).pages]


def pdf_pdfplumber(path):
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [_lines(page.extract_text()) for page in pdf.pages]


def _lines(text):
    return [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]


def compare_pdf(folder: Path) -> None:
    layouts = {}
    for path in ALL:
        layouts[path] = docs.write_pdf(docs.original_lines(path), folder / f"{path.stem}.pdf")
    for name, extract in (
        ("pypdfium2", pdf_pypdfium2),
        ("pypdf", pdf_pypdf),
        ("pdfplumber", pdf_pdfplumber),
    ):
        try:
            extract(folder / f"{ALL[0].stem}.pdf")  # warm up imports
        except ImportError:
            print(f"{name}: not installed")
            continue
        differing = pages = 0
        for path, layout in layouts.items():
            for expected, got in zip(layout.pages, extract(folder / f"{path.stem}.pdf")):
                pages += 1
                # header, page number
                body = got[1:-1] if got and got[0] == docs.RUNNING_HEADER else got[:-1]
                differing += body != [line.strip() for line in expected]
        runs = []
        for _ in range(REPEATS):  # the machine is shared: the fastest run is the least disturbed
            began = time.perf_counter()
            for path in layouts:
                extract(folder / f"{path.stem}.pdf")
            runs.append(time.perf_counter() - began)
        print(
            f"PDF {name}: {differing}/{pages} pages differ from the printed lines, "
            f"{min(runs) * 1000 / pages:.2f} ms/page (best of {REPEATS})"
        )


def compare_html() -> None:
    parser = BulletinParser(load_gazetteer())

    def ours(html):
        return [b.text for b in read_html(html.encode("utf-8"), "page.html")]

    def trafilatura_text(html):
        import trafilatura

        return _lines(trafilatura.extract(html, include_tables=True) or "")

    for name, extract in (
        ("ours (lxml, Readability-style)", ours),
        ("trafilatura", trafilatura_text),
    ):
        recovered = expected_total = chrome = same = pages = 0
        began = time.perf_counter()
        try:
            for path in ALL:
                txt = parse_file(path, path.stem)
                expected = txt.bulletin.text_clean.split("\n")
                for make in (docs.gov_page_html, docs.wechat_html):
                    lines = extract(make(docs.bulletin_blocks(txt), docs.RUNNING_HEADER))
                    pages += 1
                    recovered += len(set(expected) & set(lines))
                    expected_total += len(set(expected))
                    chrome += sum(
                        1 for line in lines if line not in expected and line != docs.RUNNING_HEADER
                    )
                    bulletin = parser.parse(
                        paragraphs_from_blocks([Block(line) for line in lines]),
                        doc_id="x",
                        path="x",
                        sha256="",
                        encoding="",
                    )
                    same += [(i.title, i.section, i.source_org) for i in bulletin.items] == [
                        (i.title, i.section, i.source_org) for i in txt.bulletin.items
                    ]
        except ImportError:
            print(f"HTML {name}: not installed")
            continue
        print(
            f"HTML {name}: paragraphs recovered {recovered}/{expected_total}, page-chrome "
            f"paragraphs kept {chrome}, "
            f"same items as the TXT on {same}/{pages} pages, "
            f"{(time.perf_counter() - began) * 1000 / pages:.1f} ms/page"
        )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        compare_pdf(Path(tmp))
    compare_html()
