"""Every bundled bulletin as DOCX, Markdown and HTML parses like its TXT; search results carry PDF
pages (whole documents: slower)."""

import pytest

from conftest import ALL, B2020, B2022
from ingest.pipeline import parse_file
from test_formats import (  # from tests/unit
    _structured_variants,
    pdfs,  # noqa: F401  (a fixture)
    structure,
)


def test_search_result_carries_pages(tmp_path, pdfs, fake_embedder):  # noqa: F811
    from index.build import update_index
    from index.engine import SearchEngine, result_dict

    index_dir = tmp_path / "index"
    report = update_index(
        [pdfs[B2020][0], B2022], index_dir, embedder=fake_embedder, cache_path=tmp_path / "c.sqlite"
    )
    assert not report.failed
    engine = SearchEngine.open(index_dir, embedder=fake_embedder)
    results = [
        result_dict(h, n)
        for n, h in enumerate(engine.search("大竹县 批示 雅安 达州", 20, "bm25"), 1)
    ]
    pages = {}
    for result in results:
        pages.setdefault(result["doc_id"], []).append(result["pages"])
    assert set(pages) == {B2020.stem, B2022.stem}
    # the PDF: 4 pages
    assert all(isinstance(p, list) and set(p) <= {1, 2, 3, 4} for p in pages[B2020.stem])
    assert all(p is None for p in pages[B2022.stem])  # the TXT


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_docx_markdown_and_html_parse_like_the_txt(parsed, path, tmp_path):
    txt = parsed[path].bulletin
    for kind, file in _structured_variants(parsed[path], path, tmp_path).items():
        bulletin = parse_file(file, path.stem).bulletin
        assert structure(bulletin) == structure(txt), kind
        if "html" in file.suffix or file.suffix == ".htm":
            # The article only, under the page's own title: no menus, sidebar, footer or script
            # text.
            assert bulletin.text_clean == "四川省地方志工作简报\n" + txt.text_clean, kind
        else:
            assert bulletin.text_clean == txt.text_clean, kind
        assert bulletin.source_format == {".docx": "docx", ".md": "md"}.get(file.suffix, "html")
