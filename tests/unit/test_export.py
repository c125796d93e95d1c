"""Exports of precedent lists and result lists (answer/export.py): Markdown, CSV, DOCX."""

from __future__ import annotations

import csv
import io

import pytest
from docx import Document

from answer.ask import ask
from answer.citation import house_citation
from answer.export import CSV_COLUMNS, export, export_to
from chat.render import card_html
from conftest import ALL
from fakes import FakeEmbedder
from index.build import update_index
from index.engine import SearchEngine, result_dict

PLAN_QUESTION = "哪些市州印发了精品年鉴品读季活动实施方案?"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    update_index(ALL, root / "index", embedder=FakeEmbedder(), cache_path=root / "cache.sqlite")
    return SearchEngine.open(root / "index", embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def listed(engine):
    answer = ask(engine, PLAN_QUESTION, k=5)
    assert answer.precedent is not None
    return answer


def test_markdown_precedent_list(listed):
    text = export(listed, "md").decode("utf-8")
    plist = listed.precedent
    assert text.startswith(f"# 先例：{PLAN_QUESTION}\n")
    assert plist.summary in text
    for group in plist.groups:
        assert f"## {group.listed}（{len(group.entries)}条）" in text
        for entry in group.entries:
            assert f"出处：{entry.citation}" in text
    assert "2022年10月21日 · 成都市" in text
    assert "> 10月21日，成都市地方志办印发《成都市“精品年鉴品读季”活动实施方案》" in text


def test_csv_has_a_bom_and_one_row_per_entry(listed):
    data = export(listed, "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8 Chinese
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = rows[1:]
    plist = listed.precedent
    assert len(body) == plist.count
    assert [r[0] for r in body] == [str(i) for i in range(1, plist.count + 1)]
    citations = [r[CSV_COLUMNS.index("出处")] for r in body]
    assert citations == [e.citation for e in plist.entries]
    chengdu = next(r for r in body if r[CSV_COLUMNS.index("分组")] == "成都")
    assert chengdu[CSV_COLUMNS.index("日期")] == "2022年10月21日"
    assert "成都市“精品年鉴品读季”活动实施方案" in chengdu[CSV_COLUMNS.index("原文")]


def test_docx_opens_with_python_docx_and_holds_the_list(listed, tmp_path):
    path = export_to(listed, tmp_path / "out" / "先例.docx")
    document = Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    styles = {p.text: p.style.name for p in document.paragraphs}
    plist = listed.precedent
    assert paragraphs[0] == f"先例：{PLAN_QUESTION}" and styles[paragraphs[0]] == "Heading 1"
    assert plist.summary in paragraphs
    for group in plist.groups:
        heading = f"{group.listed}（{len(group.entries)}条）"
        assert heading in paragraphs and styles[heading] == "Heading 2"
    for entry in plist.entries:
        assert f"出处：{entry.citation}" in paragraphs
    assert any(p.startswith("10月21日，成都市地方志办印发") for p in paragraphs)
    east_asian = document.styles["Normal"].element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    )
    assert east_asian == "宋体"


def test_result_list_export_uses_house_citations(engine, tmp_path):
    answer = ask(engine, "大竹县 批示", k=3)
    assert answer.precedent is None
    results = [result_dict(h, i) for i, h in enumerate(answer.hits, 1)]
    text = export(answer, "md").decode("utf-8")
    assert text.startswith("# 检索结果：大竹县 批示") and "检索理解：地点：达州市 › 大竹县" in text
    for r in results:
        assert f"出处：{house_citation(r)}" in text
    plain = export(results, "csv", query="大竹县 批示").decode("utf-8-sig")
    assert house_citation(results[0]) in plain
    document = Document(io.BytesIO(export(answer, "docx")))
    assert house_citation(results[0]) in "\n".join(p.text for p in document.paragraphs)


def test_unknown_formats_name_the_file(listed, tmp_path):
    with pytest.raises(ValueError, match="out.pdf: unknown export format .pdf"):
        export_to(listed, tmp_path / "out.pdf")
    with pytest.raises(ValueError, match="unknown export format 'xls'"):
        export(listed, "xls")


def test_undated_rows_carry_the_cards_date_label():
    """A passage of unknown date reads "日期不详（约2024年）" on the card and in every export."""
    result = {
        "rank": 1,
        "chunk_id": "001_x#0",
        "doc_id": "001_x",
        "text": "全省年鉴工作会议召开。",
        "title": "年鉴工作会议",
        "date": None,
        "date_estimate": "2024",
        "section": None,
        "places": [],
        "source_org": None,
        "event_dates": [],
    }
    label = "日期不详（约2024年）"
    assert f'<span class="date">{label}</span>' in card_html(
        {**result, "citation": house_citation(result)}, 1
    )
    assert f"1. **{label} · 年鉴工作会议**" in export([result], "md", "年鉴").decode("utf-8")
    rows = list(csv.reader(io.StringIO(export([result], "csv", "年鉴").decode("utf-8-sig"))))
    assert rows[1][CSV_COLUMNS.index("日期")] == label
    paragraphs = [p.text for p in Document(io.BytesIO(export([result], "docx", "年鉴"))).paragraphs]
    assert f"1. {label} · 年鉴工作会议" in paragraphs
    assert "日期不详" in export([{**result, "date_estimate": None}], "md", "年鉴").decode("utf-8")
