"""Exports of precedent lists and result lists (answer/export.py): Markdown, CSV, DOCX."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from docx import Document

from answer.ask import ask
from answer.citation import house_citation
from answer.export import CSV_COLUMNS, export, export_to
from answer.precedent import PrecedentEntry, PrecedentGroup, PrecedentList
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
    # the event's date and the bulletin's, each labelled, under the place and title
    assert "1. **成都市 · 成都、泸州等地积极推进精品年鉴品读季活动走深走实**" in text
    assert "\n   事件日期：2022年10月21日 · 简报日期：2022年11月2日\n" in text
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
    assert chengdu[CSV_COLUMNS.index("事件日期")] == "2022年10月21日"
    assert chengdu[CSV_COLUMNS.index("简报日期")] == "2022年11月2日"
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
    assert "事件日期：2022年10月21日 · 简报日期：2022年11月2日" in paragraphs
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


UNDATED = {
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


def all_formats(results: list[dict]) -> tuple[str, list[list[str]], list[str]]:
    """Markdown text, CSV rows (header first), DOCX paragraphs."""
    text = export(results, "md", "年鉴").decode("utf-8")
    rows = list(csv.reader(io.StringIO(export(results, "csv", "年鉴").decode("utf-8-sig"))))
    paragraphs = [p.text for p in Document(io.BytesIO(export(results, "docx", "年鉴"))).paragraphs]
    return text, rows, paragraphs


def test_undated_rows_carry_the_cards_date_label():
    """A bulletin of unknown date reads "日期不详（约2024年）" on the card and in every export,
    labelled as the bulletin's date; "估计" (the parser's note on how it was estimated) nowhere."""
    card = card_html({**UNDATED, "citation": house_citation(UNDATED)}, 1)
    assert '<span class="date">简报日期不详（约2024年）</span>' in card
    text, rows, paragraphs = all_formats([UNDATED])
    assert "1. **年鉴工作会议**\n\n   简报日期不详（约2024年）\n" in text
    assert rows[1][CSV_COLUMNS.index("简报日期")] == "日期不详（约2024年）"
    assert rows[1][CSV_COLUMNS.index("事件日期")] == ""  # the passage names no date
    assert "1. 年鉴工作会议" in paragraphs and "简报日期不详（约2024年）" in paragraphs
    assert "估计" not in text + card + "".join(paragraphs) + str(rows)
    bare, rows, _ = all_formats([{**UNDATED, "date_estimate": None}])
    assert "   简报日期不详\n" in bare and rows[1][CSV_COLUMNS.index("简报日期")] == "日期不详"


def test_event_and_bulletin_dates_are_labelled_apart():
    dated = {**UNDATED, "date": "2022-11-02", "date_estimate": None, "places": ["达州市"]}
    card = card_html({**dated, "citation": house_citation(dated)}, 1)
    assert '<span class="date">简报日期：2022年11月2日</span>' in card
    reported = {**dated, "event_dates": ["2022-10-10", "2022-10-12"]}
    text, rows, paragraphs = all_formats([reported])
    both = "事件日期：2022年10月10日 · 简报日期：2022年11月2日"  # the first date it reports
    assert f"1. **达州市 · 年鉴工作会议**\n\n   {both}\n" in text and both in paragraphs
    assert rows[0][2:4] == ["事件日期", "简报日期"]
    assert rows[1][2:4] == ["2022年10月10日", "2022年11月2日"]
    # an event date under an undated bulletin; a dated bulletin whose passage names no date
    text, rows, _ = all_formats([{**UNDATED, "event_dates": ["2024-03-07"]}, dated])
    assert "   事件日期：2024年3月7日 · 简报日期不详（约2024年）\n" in text
    assert "   简报日期：2022年11月2日\n" in text and text.count("事件日期") == 1
    assert rows[1][2:4] == ["2024年3月7日", "日期不详（约2024年）"]
    assert rows[2][2:4] == ["", "2022年11月2日"]
    # the house citation keeps its own form: the bulletin's date, unlabelled
    assert "出处：《四川省地方志工作简报》 “年鉴工作会议”" in text
    assert house_citation(dated) == "《四川省地方志工作简报》2022年11月2日 “年鉴工作会议”"


def test_a_precedent_entry_dated_by_its_bulletin_shows_no_event_date():
    """A precedent entry's date is its event's, else (no event date in the passage) the
    bulletin's: the second is not shown as an event date."""
    dated = {**UNDATED, "date": "2022-11-02", "date_estimate": None}
    entries = (
        PrecedentEntry(
            "a#0",
            "达州市",
            "达州市",
            "2022-10-10",
            1.0,
            "甲。",
            {**dated, "event_dates": ["2022-10-10"]},
            ("a#0",),
        ),
        PrecedentEntry("b#0", "达州市", "达州市", "2022-11-02", 0.9, "乙。", dated, ("b#0",)),
    )
    plist = PrecedentList("年鉴", (PrecedentGroup("达州市", "达州", entries),), 0.4)
    text = export(plist, "md").decode("utf-8")
    assert "   事件日期：2022年10月10日 · 简报日期：2022年11月2日\n" in text
    assert "   简报日期：2022年11月2日\n" in text and text.count("事件日期") == 1


def test_docx_properties_name_the_app_not_python_docx(listed):
    data = export(listed, "docx")
    props = Document(io.BytesIO(data)).core_properties
    assert props.author == props.last_modified_by == "简报助手"
    assert props.title == f"先例：{PLAN_QUESTION}"
    assert props.comments == props.keywords == props.subject == ""
    now = datetime.now(timezone.utc)
    assert now - props.created < timedelta(minutes=5) and props.modified == props.created
    with zipfile.ZipFile(io.BytesIO(data)) as package:  # in no part of the package
        for name in package.namelist():
            assert b"python-docx" not in package.read(name), name
