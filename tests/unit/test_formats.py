"""PDF, DOCX, HTML and Markdown versions of the five bulletins parse like the TXT originals."""

import pytest

import sample_documents as docs
from conftest import ALL, B2020
from ingest.errors import NeedsOcrError
from ingest.formats.pdf import check_text_layer, strip_running_lines
from ingest.pages import clean_page_starts, pages_between
from ingest.pipeline import parse_file


def structure(bulletin):
    """What must not depend on the file format."""
    return {
        "date": bulletin.date,
        "date_source": bulletin.date_source,
        "issuer": bulletin.issuer,
        "date_estimate": bulletin.date_estimate,
        "items": [
            (i.title, i.subtitle, i.section, i.source_org, i.places, i.event_dates)
            for i in bulletin.items
        ],
        "reports": [[r.places for r in i.reports] for i in bulletin.items],
        "footer": bulletin.metadata["footer"],
    }


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    """{txt path: (pdf path, layout)}; footers alternate between "- 3 -" and "第3页"."""
    folder = tmp_path_factory.mktemp("pdf")
    out = {}
    for n, path in enumerate(ALL):
        pdf = folder / f"{path.stem}.pdf"
        layout = docs.write_pdf(docs.original_lines(path), pdf, footer="dash" if n % 2 else "cn")
        out[path] = (pdf, layout)
    return out


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_pdf_parses_like_the_txt(parsed, pdfs, path):
    pdf, layout = pdfs[path]
    assert len(layout.pages) >= 4  # several pages, so running lines really repeat
    from_pdf = parse_file(pdf, path.stem)
    txt = parsed[path].bulletin
    assert structure(from_pdf.bulletin) == structure(txt)
    # Running header and page numbers removed, nothing else: the very same cleaned text.
    assert from_pdf.bulletin.text_clean == txt.text_clean
    assert docs.RUNNING_HEADER not in from_pdf.bulletin.text_clean.split("\n")
    assert from_pdf.bulletin.source_format == "pdf" and txt.source_format == "txt"
    assert [c.text for c in from_pdf.chunks] == [c.text for c in parsed[path].chunks]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_pdf_chunks_carry_the_pages_they_span(pdfs, path):
    pdf, layout = pdfs[path]
    parsed_pdf = parse_file(pdf, path.stem)
    spans_two = 0
    for chunk in parsed_pdf.chunks:
        assert chunk.meta.pages == tuple(layout.pages_of(chunk.text)), chunk.chunk_id
        spans_two += len(chunk.meta.pages) > 1
    assert spans_two, "some passage should run over a page break"
    assert parsed_pdf.bulletin.page_starts[0] == 0 and len(parsed_pdf.bulletin.page_starts) == len(
        layout.pages
    )


def test_txt_chunks_have_no_pages(parsed):
    assert all(c.meta.pages is None for p in ALL for c in parsed[p].chunks)


def test_running_lines_and_page_numbers_removed_from_page_edges_only():
    pages = [
        ["四川省地方志工作办公室 2024年3月13日", "【市州动态】", "正文第一行，", "- 1 -"],
        ["四川省地方志工作办公室 2024年3月13日", "正文第二行。", "（省地方志办）", "第2页 共3页"],
        ["四川省地方志工作办公室 2024年3月13日", "正文第三行。", "（省地方志办）", "3"],
    ]
    assert strip_running_lines(pages) == [
        [
            "四川省地方志工作办公室 2024年3月13日",
            "【市州动态】",
            "正文第一行，",
        ],  # page 1 keeps its masthead
        ["正文第二行。", "（省地方志办）"],  # a source line ending two pages is content
        ["正文第三行。", "（省地方志办）"],
    ]
    # A line that repeats only inside the page body stays.
    body = [
        ["标题", "会议指出", "甲", "乙", "丙", "丁", "- 1 -"],
        ["标题二", "会议指出", "戊", "己", "庚", "辛", "- 2 -"],
    ]
    assert strip_running_lines(body)[1] == ["标题二", "会议指出", "戊", "己", "庚", "辛"]
    # Running footer lines that differ only in their numbers ("第3期 2") repeat too.
    footers = [
        [f"正文{body}。", f"四川省地方志工作简报第3期 {n}"] for n, body in enumerate("甲乙丙", 1)
    ]
    assert strip_running_lines(footers) == [["正文甲。"], ["正文乙。"], ["正文丙。"]]


def test_unreadable_text_layer_needs_ocr():
    """Fonts without a Unicode map extract as private-use glyphs: as useless as a scan."""
    # no error
    check_text_layer([["四川省地方志工作办公室 2024年3月13日，正文有二十个以上的字。"]], "ok.pdf")
    with pytest.raises(NeedsOcrError, match="需要OCR.*乱码"):
        check_text_layer([["\ue001\ue002\ue003" * 10]], "garbled.pdf")
    with pytest.raises(NeedsOcrError, match="没有文字层"):
        check_text_layer([["- 1 -"], []], "scan.pdf")


def test_page_starts_follow_the_cleaned_text():
    raw = "甲乙\n丙丁\n 戊己\n庚"  # pages start at 0, 6 (" 戊己") and 10 ("庚")
    clean = "甲乙丙丁\n戊己庚"
    starts = clean_page_starts(raw, (0, 6, 10), clean)
    assert starts == (0, 5, 7)
    assert pages_between(starts, 0, 4) == [1] and pages_between(starts, 2, 7) == [1, 2]
    assert pages_between(starts, 5, 8) == [2, 3] and pages_between(None, 0, 3) is None
    # A page that left nothing after cleaning begins where the next page does.
    assert clean_page_starts("甲\n \n乙", (0, 2, 4), "甲乙") == (0, 1, 1)


# -- DOCX, Markdown, HTML ----------------------------------------------------


def _structured_variants(parsed_txt, path, folder):
    blocks = docs.bulletin_blocks(parsed_txt)
    files = {}
    files["docx, bold titles"] = folder / "bold.docx"
    docs.write_docx(blocks, files["docx, bold titles"])
    files["docx, heading styles"] = folder / "heading.docx"
    docs.write_docx(blocks, files["docx, heading styles"], titles_as="heading")
    files["docx, pasted PDF lines"] = folder / "lines.docx"
    docs.write_docx_lines(docs.original_lines(path), files["docx, pasted PDF lines"])
    files["markdown"] = folder / "bulletin.md"
    docs.write_markdown(blocks, files["markdown"])
    files["gov site page"] = folder / "gov.html"
    files["gov site page"].write_text(
        docs.gov_page_html(blocks, "四川省地方志工作简报"), encoding="utf-8"
    )
    files["wechat article"] = folder / "wechat.htm"
    files["wechat article"].write_text(
        docs.wechat_html(blocks, "四川省地方志工作简报"), encoding="utf-8"
    )
    files["gov site page, GBK"] = folder / "gov-gbk.html"
    page = docs.gov_page_html(blocks, "四川省地方志工作简报").replace(
        'charset="utf-8"', 'charset="gb2312"'
    )
    files["gov site page, GBK"].write_bytes(page.encode("gb18030"))
    return files


def test_html_boilerplate_is_not_indexed(parsed, tmp_path):
    files = _structured_variants(parsed[B2020], B2020, tmp_path)
    for kind in ("gov site page", "wechat article"):
        text = parse_file(files[kind], "x").bulletin.text_clean
        for junk in (
            "首页",
            "当前位置",
            "相关链接",
            "主办单位",
            "ICP",
            "统计代码",
            "分享到",
            "上一篇",
            "微信扫一扫",
            "继续滑动",
            "阅读 1024",
            "发布时间",
            "#地方志",
        ):
            assert junk not in text, (kind, junk)


def test_unmarked_docx_still_finds_titles_by_layout(parsed, tmp_path):
    """A DOCX typed without bold or heading styles: short unpunctuated lines are titles, as in a
    TXT."""
    blocks = [docs.Block(b.text, "para") for b in docs.bulletin_blocks(parsed[B2020])]
    docs.write_docx(blocks, tmp_path / "plain.docx")
    assert structure(parse_file(tmp_path / "plain.docx", "x").bulletin) == structure(
        parsed[B2020].bulletin
    )


def test_markdown_markup_is_dropped(tmp_path):
    md = tmp_path / "b.md"
    md.write_text(
        "四川省地方志工作办公室 2024年3月13日\n\n## 【市州动态】\n\n**广元市召开史志工作会议**\n\n"
        "3月1日，广元市召开*史志工作*会议，\n部署[年鉴编纂](http://example.invalid)工作。（广元市地方志编纂中心）\n",
        encoding="utf-8",
    )
    bulletin = parse_file(md, "b").bulletin
    assert bulletin.date == "2024-03-13"
    [item] = bulletin.items
    assert item.title == "广元市召开史志工作会议" and item.section == "市州动态"
    assert item.source_org == "广元市地方志编纂中心"
    # soft break joined, no space
    assert "3月1日，广元市召开史志工作会议，部署年鉴编纂工作。" in bulletin.text_clean
