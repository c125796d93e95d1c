"""DOCX tables and text boxes: every row, every merged cell once, every text box once and in
place."""

from copy import deepcopy

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import qn

import sample_documents as docs
from conftest import ALL
from ingest.formats.word import read_docx
from ingest.pipeline import parse_file
from test_formats import structure

_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
)
_VML = (
    '<w:pict><v:shape id="TextBox{n}" o:spid="_x0000_s10{n}" type="#_x0000_t202" '
    'style="position:absolute;margin-left:0;margin-top:0;width:216pt;height:72pt;z-index:{n}">'
    "<v:textbox><w:txbxContent/></v:textbox></v:shape></w:pict>"
)
# As Word 2010+ saves a text box: a DrawingML shape, and a VML copy of the same content for older
# readers.
_DRAWINGML = (
    '<w:r {ns}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
    '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" '
    'relativeHeight="{n}" '
    'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
    '<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
    '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
    '<wp:extent cx="2743200" cy="914400"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
    '<wp:wrapSquare wrapText="bothSides"/><wp:docPr id="{n}" name="Text Box {n}"/><wp:'
    "cNvGraphicFramePr/>"
    '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
    '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="2743200" '
    'cy="914400"/>'
    '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></wps:spPr>'
    '<wps:txbx><w:txbxContent/></wps:txbx><wps:bodyPr wrap="square"><a:noAutofit/></wps:bodyPr></'
    "wps:wsp>"
    "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
    "<mc:Fallback>" + _VML + "</mc:Fallback></mc:AlternateContent></w:r>"
)
_VML_ONLY = "<w:r {ns}>" + _VML + "</w:r>"
FORMS = {"drawingml with vml fallback": _DRAWINGML, "vml only": _VML_ONLY}


def add_text_box(paragraph, content: list, form: str, n: int = 1) -> None:
    """Anchor a text box holding `content` (paragraphs or tables made with python-docx, moved in)
    at the end of `paragraph`, in the XML Word writes: python-docx has no text-box API."""
    run = parse_xml(FORMS[form].format(ns=_NS, n=n))
    for box in run.iter(qn("w:txbxContent")):  # the VML fallback repeats the content, as Word does
        box.extend(deepcopy(element) for element in content)
    for element in content:
        element.getparent().remove(element)
    paragraph._p.append(run)


def _read(document, tmp_path) -> list:
    path = tmp_path / "t.docx"
    document.save(str(path))
    return read_docx(path.read_bytes(), path.name)


def _texts(document, tmp_path) -> list[str]:
    return [b.text for b in _read(document, tmp_path)]


def _fill(table, texts: list[list[str]]) -> None:
    for row, row_texts in zip(table.rows, texts):
        for cell, text in zip(row.cells, row_texts):
            cell.text = text


def test_every_table_row_is_read(tmp_path):
    document = Document()
    document.add_paragraph("表前段落")
    grid = [[f"第{r}行甲", f"第{r}行乙"] for r in range(1, 6)]
    _fill(document.add_table(rows=5, cols=2), grid)
    document.add_paragraph("表后段落")
    assert _texts(document, tmp_path) == ["表前段落", *[t for row in grid for t in row], "表后段落"]


def test_merged_cells_are_read_once(tmp_path):
    document = Document()
    table = document.add_table(rows=4, cols=3)
    # horizontal: one w:tc, gridSpan 3
    table.cell(0, 0).merge(table.cell(0, 2)).text = "横跨三列的标题"
    # vertical: vMerge restart + continue
    table.cell(1, 0).merge(table.cell(3, 0)).text = "纵跨三行的栏目"
    for r in range(1, 4):
        table.cell(r, 1).text, table.cell(r, 2).text = f"标题{r}", f"内容{r}"
    texts = _texts(document, tmp_path)
    assert texts == [
        "横跨三列的标题",
        "纵跨三行的栏目",
        "标题1",
        "内容1",
        "标题2",
        "内容2",
        "标题3",
        "内容3",
    ]


def test_paragraph_text_leaves_text_boxes_out(tmp_path):
    """python-docx's paragraph.text reads only the paragraph's own runs: the box is read separately,
    not twice."""
    document = Document()
    anchor = document.add_paragraph("锚定段落")
    add_text_box(anchor, [document.add_paragraph("框内文字")._p], "drawingml with vml fallback")
    assert document.paragraphs[0].text == "锚定段落"


@pytest.mark.parametrize("form", FORMS)
def test_text_box_is_read_once_in_document_order(tmp_path, form):
    document = Document()
    document.add_paragraph("第一段")
    # Word anchors a floating box at the start of the paragraph it stands by
    anchor = document.add_paragraph()
    content = [
        document.add_paragraph("框内标题", style="Heading 2")._p,
        document.add_paragraph("框内正文")._p,
    ]
    add_text_box(anchor, content, form)
    anchor.add_run("锚定段落")
    late = document.add_paragraph("有文字的段落")  # a box anchored after the text comes after it
    add_text_box(late, [document.add_paragraph("后置文本框")._p], form, n=2)
    document.add_paragraph("最后一段")
    blocks = _read(document, tmp_path)
    assert [b.text for b in blocks] == [
        "第一段",
        "框内标题",
        "框内正文",
        "锚定段落",
        "有文字的段落",
        "后置文本框",
        "最后一段",
    ]
    # heading styles count inside a box too
    assert [b.heading for b in blocks[1:3]] == [
        True,
        False,
    ]


@pytest.mark.parametrize("form", FORMS)
def test_bold_paragraph_in_a_text_box_is_a_heading(tmp_path, form):
    document = Document()
    box_title = document.add_paragraph()
    box_title.add_run("加粗的框内标题").bold = True
    add_text_box(document.add_paragraph(), [box_title._p, document.add_paragraph("正文")._p], form)
    assert [(b.text, b.heading) for b in _read(document, tmp_path)] == [
        ("加粗的框内标题", True),
        ("正文", False),
    ]


@pytest.mark.parametrize("form", FORMS)
def test_table_inside_a_text_box(tmp_path, form):
    document = Document()
    table = document.add_table(rows=3, cols=2)
    _fill(table, [["甲1", "乙1"], ["甲2", "乙2"], ["甲3", "乙3"]])
    add_text_box(
        document.add_paragraph(), [document.add_paragraph("框内表前")._p, table._tbl], form
    )
    document.add_paragraph("正文")
    assert _texts(document, tmp_path) == [
        "框内表前",
        "甲1",
        "乙1",
        "甲2",
        "乙2",
        "甲3",
        "乙3",
        "正文",
    ]


@pytest.mark.parametrize("form", FORMS)
def test_text_box_inside_a_table_cell(tmp_path, form):
    document = Document()
    table = document.add_table(rows=2, cols=2)
    _fill(table, [["甲1", "乙1"], ["甲2", "乙2"]])
    add_text_box(table.cell(0, 1).paragraphs[0], [document.add_paragraph("格内文本框")._p], form)
    document.add_paragraph("表后")
    assert _texts(document, tmp_path) == ["甲1", "乙1", "格内文本框", "甲2", "乙2", "表后"]


@pytest.mark.parametrize("form", FORMS)
def test_text_box_inside_a_text_box(tmp_path, form):
    document = Document()
    inner_anchor = document.add_paragraph("外框文字")
    add_text_box(inner_anchor, [document.add_paragraph("内框文字")._p], form, n=2)
    add_text_box(document.add_paragraph("正文"), [inner_anchor._p], form)
    assert _texts(document, tmp_path) == ["正文", "外框文字", "内框文字"]


def write_docx_item_tables(parsed, out, rows: str) -> None:
    """The bulletin as offices often lay it out in Word: masthead and distribution list as
    paragraphs, each section a table 栏目 | 标题 | 正文, the 栏目 cell merged down the section's
    rows.

    rows: "item" (one item per row) or "paragraph" (one body paragraph per row, the title merged
    down)."""
    item_end = {
        i.title_span.start: (i.source_span or i.body_span).end for i in parsed.bulletin.items
    }
    # a paragraph's text, or [section marker or None, [(title, [body paragraphs])]]
    layout: list = []
    offset, end = 0, -1
    for block in docs.bulletin_blocks(parsed):
        start, offset = offset, offset + len(block.text) + 1
        if block.kind == "section":
            layout.append([block.text, []])
        elif block.kind == "title":
            if not layout or isinstance(layout[-1], str):
                layout.append([None, []])
            layout[-1][1].append((block.text, []))
            end = item_end[start]
        elif start < end:
            layout[-1][1][-1][1].append(block.text)
        else:
            layout.append(block.text)
    document = Document()
    for entry in layout:
        if isinstance(entry, str):
            document.add_paragraph(entry)
            continue
        section, items = entry
        heights = [max(1, len(body)) if rows == "paragraph" else 1 for _, body in items]
        table = document.add_table(rows=sum(heights), cols=3)
        top = 0
        for (title, body), height in zip(items, heights):
            title_cell = table.cell(top, 1).merge(table.cell(top + height - 1, 1))
            title_cell.paragraphs[0].add_run(title).bold = True
            for n, text in enumerate(body):
                if rows == "paragraph":
                    table.cell(top + n, 2).text = text
                elif n == 0:
                    table.cell(top, 2).text = text
                else:
                    table.cell(top, 2).add_paragraph(text)
            top += height
        table.cell(0, 0).merge(table.cell(top - 1, 0)).text = section or ""
    document.save(str(out))


@pytest.mark.parametrize("rows", ["item", "paragraph"])
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_bulletin_in_tables_parses_like_the_txt(parsed, path, rows, tmp_path):
    file = tmp_path / "tables.docx"
    write_docx_item_tables(parsed[path], file, rows)
    txt = parsed[path].bulletin
    bulletin = parse_file(file, path.stem).bulletin
    assert [i.title for i in bulletin.items] == [i.title for i in txt.items]
    assert structure(bulletin) == structure(txt)
    assert bulletin.text_clean == txt.text_clean


# -- Content controls, tracked changes, fields: text python-docx's paragraph.text leaves out ---

_SDT = (
    '<w:sdt {ns}><w:sdtPr><w:alias w:val="控件名称"/><w:tag w:val="控件标记"/></w:sdtPr>'
    "<w:sdtContent/></w:sdt>"
)
_CUSTOM_XML = '<w:customXml {ns} w:element="自定义元素"/>'
_INS = '<w:ins {ns} w:id="{n}" w:author="修订人" w:date="2023-05-01T00:00:00Z"/>'
_MOVE_TO = '<w:moveTo {ns} w:id="{n}" w:author="修订人" w:date="2023-05-01T00:00:00Z"/>'


def wrap(elements: list, outer: str, n: int = 1) -> None:
    """Put `elements` (paragraphs, tables, rows, cells or runs made with python-docx) in place
    inside `outer`: a content control (into its w:sdtContent), custom XML or a tracked insertion."""
    wrapper = parse_xml(outer.format(ns=_NS, n=n))
    inner = wrapper.find(qn("w:sdtContent"))
    elements[0].addprevious(wrapper)
    (wrapper if inner is None else inner).extend(elements)


def append_xml(paragraph, xml: str) -> None:
    """Append runs and run-level markup, written as Word writes them, to a python-docx paragraph."""
    paragraph._p.extend(list(parse_xml(f"<w:root {_NS}>{xml}</w:root>")))


def _r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _once_in_order(texts: list[str], expected: list[str]) -> None:
    """Each expected text appears exactly once in the whole output, and in this order."""
    joined = "\n".join(texts)
    assert [joined.count(t) for t in expected] == [1] * len(expected), joined
    assert [joined.index(t) for t in expected] == sorted(joined.index(t) for t in expected), joined


def test_body_level_content_controls_are_read(tmp_path):
    document = Document()
    document.add_paragraph("控件前")
    inside = [document.add_paragraph("控件内第一段")._p, document.add_paragraph("控件内第二段")._p]
    table = document.add_table(rows=2, cols=2)
    _fill(table, [["控件内表格甲", "控件内表格乙"], ["控件内表格丙", "控件内表格丁"]])
    nested = document.add_paragraph("嵌套控件内段落")._p
    wrap([*inside, table._tbl, nested], _SDT)
    wrap([nested], _SDT)  # a content control inside a content control
    wrap([document.add_paragraph("自定义XML内段落")._p], _CUSTOM_XML)
    document.add_paragraph("控件后")
    # python-docx sees only the two plain paragraphs
    assert len(list(document.iter_inner_content())) == 2
    assert _texts(document, tmp_path) == [
        "控件前",
        "控件内第一段",
        "控件内第二段",
        "控件内表格甲",
        "控件内表格乙",
        "控件内表格丙",
        "控件内表格丁",
        "嵌套控件内段落",
        "自定义XML内段落",
        "控件后",
    ]


def test_content_controls_around_rows_and_cells_are_read(tmp_path):
    document = Document()
    table = document.add_table(rows=4, cols=3)
    grid = [[f"第{r}行{c}列" for c in "甲乙丙"] for r in range(1, 5)]
    _fill(table, grid)
    rows = [row._tr for row in table.rows]
    wrap(rows[1:3], _SDT)  # a repeating-section control: whole rows
    wrap([rows[3].tc_lst[1]], _SDT)  # one cell
    wrap(rows[0].tc_lst[1:], _SDT)  # two cells in one control
    wrap([rows[1]], _CUSTOM_XML)  # custom XML around a row already inside the control
    document.add_paragraph("表后")
    assert _texts(document, tmp_path) == [t for row in grid for t in row] + ["表后"]


def test_a_cell_inside_a_content_control_in_a_merged_table(tmp_path):
    document = Document()
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).merge(table.cell(2, 0)).text = "纵向合并"
    for r in range(3):
        table.cell(r, 1).text = f"右{r}"
    wrap([table.rows[1]._tr.tc_lst[1]], _SDT)
    assert _texts(document, tmp_path) == ["纵向合并", "右0", "右1", "右2"]


def test_runs_nested_in_markup_are_read_once_in_order(tmp_path):
    document = Document()
    paragraph = document.add_paragraph("一")
    append_xml(
        paragraph,
        f'<w:ins w:id="1" w:author="修订人" w:date="2023-05-01T00:00:00Z">{_r("二")}</w:ins>'
        '<w:del w:id="2" w:author="修订人" w:date="2023-05-01T00:00:00Z">'
        "<w:r><w:delText>已删除的文字</w:delText></w:r></w:del>"
        f'<w:sdt><w:sdtPr><w:alias w:val="控件名称"/></w:sdtPr><w:sdtContent>{_r("三")}'
        "</w:sdtContent></w:sdt>"
        '<w:smartTag w:uri="urn:schemas-microsoft-com:office:smarttags" w:element="place">'
        f'<w:smartTagPr><w:attr w:name="Name" w:val="智能标记属性"/></w:smartTagPr>{_r("四")}'
        f'</w:smartTag><w:customXml w:element="项">{_r("五")}</w:customXml>'
        f'<w:fldSimple w:instr=" DATE \\@ &quot;yyyy年M月&quot; ">{_r("六")}</w:fldSimple>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> REF 域代码 \\h </w:instrText></w:r>'
        f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{_r("七")}'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:moveFrom w:id="3" w:author="修订人" w:date="2023-05-01T00:00:00Z">'
        f"{_r('移走的文字')}</w:moveFrom>"
        '<w:moveTo w:id="4" w:author="修订人" w:date="2023-05-01T00:00:00Z">'
        f"{_r('八')}{_r('移走的文字')}</w:moveTo>"
        f'<w:hyperlink w:anchor="书签"><w:ins w:id="5" w:author="修订人">{_r("九")}</w:ins>'
        f"</w:hyperlink><w:r><w:t>十</w:t><w:delText>删</w:delText></w:r>",
    )
    texts = _texts(document, tmp_path)
    assert texts == ["一二三四五六七八移走的文字九十"]
    for hidden in ("已删除的文字", "删", "域代码", "REF", "DATE", "控件名称", "智能标记属性"):
        assert hidden not in texts[0]


def test_deeply_nested_runs(tmp_path):
    """Content control in a tracked insertion in a hyperlink in custom XML, and a ruby's base
    text."""
    document = Document()
    paragraph = document.add_paragraph("甲")
    append_xml(
        paragraph,
        '<w:customXml w:element="项"><w:hyperlink w:anchor="书签">'
        '<w:ins w:id="1" w:author="修订人"><w:sdt><w:sdtContent>'
        f"{_r('乙')}</w:sdtContent></w:sdt></w:ins></w:hyperlink></w:customXml>"
        '<w:r><w:ruby><w:rubyPr><w:rubyAlign w:val="center"/></w:rubyPr>'
        f"<w:rt>{_r('bing')}</w:rt><w:rubyBase>{_r('丙')}</w:rubyBase></w:ruby></w:r>",
    )
    assert _texts(document, tmp_path) == ["甲乙丙"]


def test_run_content_characters(tmp_path):
    document = Document()
    paragraph = document.add_paragraph()
    append_xml(
        paragraph,
        "<w:r><w:t>甲</w:t><w:tab/><w:t>乙</w:t><w:br/><w:t>丙</w:t><w:cr/><w:t>丁</w:t>"
        '<w:noBreakHyphen/><w:t>戊</w:t><w:softHyphen/><w:sym w:font="Symbol" w:char="03B1"/>'
        '<w:sym w:font="Wingdings" w:char="F0FE"/><w:ptab w:relativeTo="margin" '
        'w:alignment="right" w:leader="none"/><w:t>己</w:t><w:br w:type="page"/><w:t>庚</w:t></w:'
        "r>",
    )
    # a private-use symbol slot shows nothing
    assert _texts(document, tmp_path) == ["甲\t乙\n丙\n丁-戊α\t己\n庚"]


def test_heading_detection_sees_nested_runs(tmp_path):
    document = Document()
    in_control = document.add_paragraph()
    in_control.add_run("控件内的加粗标题").bold = True
    wrap([in_control.runs[0]._r], _SDT)
    mixed = document.add_paragraph()
    mixed.add_run("加粗开头").bold = True
    inserted = mixed.add_run("插入的普通文字")
    wrap([inserted._r], _INS)
    blocks = _read(document, tmp_path)
    assert [(b.text, b.heading) for b in blocks] == [
        ("控件内的加粗标题", True),
        ("加粗开头插入的普通文字", False),
    ]


@pytest.mark.parametrize("form", FORMS)
def test_text_box_in_nested_markup_is_read_once(tmp_path, form):
    document = Document()
    anchor = document.add_paragraph("锚定段落")
    add_text_box(anchor, [document.add_paragraph("插入的文本框")._p], form)
    wrap([anchor._p[-1]], _INS)
    add_text_box(anchor, [document.add_paragraph("控件内文本框")._p], form, n=2)
    wrap([anchor._p[-1]], _SDT)
    add_text_box(anchor, [document.add_paragraph("已删除的文本框")._p], form, n=3)
    deleted = parse_xml(f'<w:del {_NS} w:id="9" w:author="修订人"/>')
    anchor._p[-1].addprevious(deleted)
    deleted.append(anchor._p[-1])
    texts = _texts(document, tmp_path)
    assert texts == ["锚定段落", "插入的文本框", "控件内文本框"]


def test_malformed_vertical_merge_is_read(tmp_path):
    """vMerge="continue" with no cell above: in the top row, and under a row that stops short of it.
    python-docx raised ValueError on both. A continuation cell's own text is read too."""
    document = Document()
    table = document.add_table(rows=3, cols=2)
    _fill(table, [["首行续接格", "首行乙"], ["次行甲", "次行乙"], ["末行甲", "末行续接格"]])
    top = table.rows[0]._tr.tc_lst[0]
    top.get_or_add_tcPr().append(parse_xml(f"<w:vMerge {_NS}/>"))
    short = table.rows[1]._tr
    short.remove(short.tc_lst[1])  # row 2 stops after its first cell
    table.rows[2]._tr.tc_lst[1].get_or_add_tcPr().append(
        parse_xml(f'<w:vMerge {_NS} w:val="continue"/>')
    )
    document.add_paragraph("表后")
    assert _texts(document, tmp_path) == [
        "首行续接格",
        "首行乙",
        "次行甲",
        "末行甲",
        "末行续接格",
        "表后",
    ]


def test_text_in_a_continuation_cell_is_not_lost(tmp_path):
    document = Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "合并格"
    table.cell(0, 1).text, table.cell(1, 1).text = "右上", "右下"
    table.rows[1]._tr.tc_lst[0].p_lst[0].append(
        parse_xml(f"<w:r {_NS}><w:t>续接格里的字</w:t></w:r>")
    )
    assert _texts(document, tmp_path) == ["合并格", "右上", "续接格里的字", "右下"]


def test_nested_markup_everywhere_reads_each_text_once(tmp_path):
    """Text boxes, content controls, tracked changes and tables nested in one another."""
    document = Document()
    document.add_paragraph("开头")
    table = document.add_table(rows=2, cols=2)
    _fill(table, [["格甲", "格乙"], ["格丙", "格丁"]])
    box_paragraph = document.add_paragraph("框内")
    append_xml(
        box_paragraph,
        f'<w:ins w:id="1" w:author="修订人">{_r("插入")}</w:ins>'
        '<w:del w:id="2" w:author="修订人"><w:r><w:delText>删掉</w:delText></w:r></w:del>',
    )
    add_text_box(table.cell(1, 1).paragraphs[0], [box_paragraph._p], "drawingml with vml fallback")
    wrap([table.rows[1]._tr], _SDT)
    wrap([table._tbl], _SDT)
    document.add_paragraph("结尾")
    texts = _texts(document, tmp_path)
    _once_in_order(texts, ["开头", "格甲", "格乙", "格丙", "格丁", "框内插入", "结尾"])
    assert "删掉" not in "".join(texts)


def _wrap_bulletin(file) -> None:
    """Everything in one content control, as in a bulletin template, each title's runs in an inline
    one, the body paragraphs' runs as tracked insertions, and a deleted paragraph and a field code
    between them."""
    document = Document(str(file))
    body = document.element.body
    paragraphs = list(body.iterchildren(qn("w:p")))
    for n, p in enumerate(paragraphs):
        runs = p.r_lst
        if runs and all(r.rPr is not None and r.rPr.b is not None for r in runs):
            wrap(runs, _SDT, n)
        elif runs:
            wrap(runs, _INS, n)
        if n % 7 == 3:
            p.addnext(
                parse_xml(
                    f'<w:p {_NS}><w:del w:id="{n}" w:author="修订人"><w:r><w:delText>已删除的段落'
                    "</w:delText></w:r></w:del></w:p>"
                )
            )
            p.append(
                parse_xml(
                    f'<w:r {_NS}><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
                )
            )
    wrap([e for e in body if e.tag != qn("w:sectPr")], _SDT)
    document.save(str(file))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_bulletin_in_content_controls_parses_like_the_txt(parsed, path, tmp_path):
    file = tmp_path / "controls.docx"
    docs.write_docx(docs.bulletin_blocks(parsed[path]), file)
    _wrap_bulletin(file)
    assert not Document(str(file)).paragraphs  # python-docx alone reads nothing
    txt = parsed[path].bulletin
    bulletin = parse_file(file, path.stem).bulletin
    assert structure(bulletin) == structure(txt)
    assert bulletin.text_clean == txt.text_clean
