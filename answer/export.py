"""Export a precedent list or a result list for pasting into a draft: Markdown, CSV, DOCX.

    data = export(answer, "docx")                 # bytes, for the web UI's download button
    path = export_to(answer, "先例.csv")           # format from the suffix (.md, .csv, .docx)

Every entry carries its house-format citation (answer/citation.py) and two labelled dates:
事件日期, the date of the event the passage reports (left out when it reports none), and 简报日期,
the bulletin's date ("简报日期不详（约2024年）" when the bulletin lost it, the card's wording).
CSV is UTF-8 with a BOM so that Excel on Chinese Windows opens it without mojibake; its 事件日期
and 简报日期 are two columns. DOCX is written with python-docx; body text uses 宋体 for Chinese so
it pastes into a draft without font fallback boxes, and its properties name 简报助手 as author.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from answer.ask import UnderstoodSearch
from answer.citation import (
    BULLETIN_DATE,
    EVENT_DATE,
    bulletin_date_label,
    chinese_date,
    date_label,
    event_date_label,
    house_citation,
)
from answer.precedent import PrecedentList
from index.engine import result_dict

FORMATS = {".md": "md", ".markdown": "md", ".csv": "csv", ".docx": "docx"}
APP_NAME = "简报助手"  # the DOCX files' author


@dataclass(frozen=True)
class ExportRow:
    number: int
    event_date: str | None  # ISO: the event's the passage reports; None when it reports none
    bulletin_date: str | None  # ISO: the bulletin's; None when lost with its header
    place: str  # "达州市", "达州市 › 大竹县", "" when unknown
    title: str
    source_org: str
    citation: str  # house format
    text: str
    ref: str  # chunk ids, to find the passage again
    date_estimate: str | None = None

    @property
    def dates(self) -> str:
        """ "事件日期：2022年10月10日 · 简报日期：2022年11月2日"; the bulletin's date alone when
        the passage reports none."""
        event = event_date_label(self.event_date)
        bulletin = bulletin_date_label(self.bulletin_date, self.date_estimate)
        return f"{event} · {bulletin}" if event else bulletin

    @property
    def head(self) -> str:
        return " · ".join(x for x in (self.place, self.title) if x) or "（无标题）"


@dataclass(frozen=True)
class ExportGroup:
    heading: str  # "成都（1条）"; "" for a plain result list
    rows: tuple[ExportRow, ...]


@dataclass(frozen=True)
class ExportDoc:
    title: str
    lines: tuple[str, ...]  # summary lines under the title
    groups: tuple[ExportGroup, ...] = field(default=())


def document_of(
    source: "UnderstoodSearch | PrecedentList | list[dict]", query: str | None = None
) -> ExportDoc:
    """The rows to export: an UnderstoodSearch's precedent list when it has one, else its results;
    a PrecedentList; or a list of search-contract result dicts."""
    if isinstance(source, PrecedentList):
        return _precedent_doc(source)
    if isinstance(source, list):
        return _results_doc(query or "", source, ())
    if source.precedent is not None:
        return _precedent_doc(source.precedent)
    results = [result_dict(h, i) for i, h in enumerate(source.hits, 1)]
    undated = [result_dict(h, i) for i, h in enumerate(source.undated, len(results) + 1)]
    lines = (
        (f"检索理解：{source.understanding.summary}",)
        if source.understanding and source.understanding.summary
        else ()
    )
    doc = _results_doc(source.query, results, lines)
    if undated:
        rows = tuple(_row_of_result(r, r["rank"]) for r in undated)
        doc = ExportDoc(
            doc.title,
            doc.lines,
            doc.groups + (ExportGroup(f"日期不详的相关条目（{len(rows)}条）", rows),),
        )
    return doc


def _precedent_doc(plist: PrecedentList) -> ExportDoc:
    groups, number = [], 0
    for group in plist.groups:
        rows = []
        for entry in group.entries:
            number += 1
            result = entry.result
            reported = entry.date in (result.get("event_dates") or ())
            rows.append(
                ExportRow(
                    number,
                    entry.date if reported else None,  # else it is the bulletin's date
                    result.get("date"),
                    entry.place if entry.place not in ("地点不详",) else "",
                    result.get("title") or "",
                    result.get("source_org") or "",
                    entry.citation,
                    entry.text,
                    "、".join(entry.chunk_ids),
                    result.get("date_estimate"),
                )
            )
        groups.append(ExportGroup(f"{group.listed}（{len(rows)}条）", tuple(rows)))
    lines = [plist.summary]
    if plist.understood:
        lines.append(f"检索理解：{plist.understood}")
    return ExportDoc(f"先例：{plist.query}", tuple(lines), tuple(groups))


def _results_doc(query: str, results: list[dict], lines: Iterable[str]) -> ExportDoc:
    rows = tuple(_row_of_result(r, r.get("rank") or i) for i, r in enumerate(results, 1))
    return ExportDoc(f"检索结果：{query}", (f"共{len(rows)}条", *lines), (ExportGroup("", rows),))


def _row_of_result(result: dict, number: int) -> ExportRow:
    return ExportRow(
        number,
        next(iter(result.get("event_dates") or ()), None),
        result.get("date"),
        "、".join(result.get("places") or []),
        result.get("title") or "",
        result.get("source_org") or "",
        house_citation(result),
        result.get("text") or "",
        result.get("chunk_id") or "",
        result.get("date_estimate"),
    )


# ---- writers -----------------------------------------------------------------------------


def to_markdown(doc: ExportDoc) -> str:
    out = [f"# {doc.title}", ""]
    out += [f"{line}  " for line in doc.lines] + [""]
    for group in doc.groups:
        if group.heading:
            out += [f"## {group.heading}", ""]
        for row in group.rows:
            out += [f"{row.number}. **{row.head}**", "", f"   {row.dates}", ""]
            out += [*(f"   > {line}" for line in row.text.splitlines() if line.strip()), ""]
            out += [f"   出处：{row.citation}", ""]
    return "\n".join(out).rstrip() + "\n"


CSV_COLUMNS = (
    "序号",
    "分组",
    EVENT_DATE,
    BULLETIN_DATE,
    "地点",
    "标题",
    "来源",
    "出处",
    "原文",
    "片段编号",
)


def to_csv(doc: ExportDoc) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # Excel's line ending
    writer.writerow(CSV_COLUMNS)
    for group in doc.groups:
        label = group.heading.split("（")[0] if group.heading else ""
        for row in group.rows:
            writer.writerow(
                (
                    row.number,
                    label,
                    chinese_date(row.event_date) or "",
                    date_label(row.bulletin_date, row.date_estimate),
                    row.place,
                    row.title,
                    row.source_org,
                    row.citation,
                    row.text,
                    row.ref,
                )
            )
    return buffer.getvalue().encode("utf-8-sig")


def to_docx(doc: ExportDoc) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    _set_properties(document, doc.title)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    document.add_heading(doc.title, level=1)
    for line in doc.lines:
        document.add_paragraph(line)
    for group in doc.groups:
        if group.heading:
            document.add_heading(group.heading, level=2)
        for row in group.rows:
            head = document.add_paragraph()
            head.add_run(f"{row.number}. ").bold = True
            head.add_run(row.head).bold = True
            document.add_paragraph(row.dates)
            for line in row.text.splitlines():
                if line.strip():
                    document.add_paragraph(line, style="Quote")
            citation = document.add_paragraph()
            citation.add_run("出处：")
            citation.add_run(row.citation)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_properties(document, title: str) -> None:
    """File properties (Word's 文件 › 信息): the app as author and last editor, the export's
    title, today's dates, and none of the template's ("python-docx", "generated by python-docx",
    2013)."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).replace(microsecond=0)
    props = document.core_properties
    props.author = props.last_modified_by = APP_NAME
    props.title = title
    props.comments = props.keywords = props.subject = ""
    props.created = props.modified = now
    props.revision = 1


def export(source, fmt: str, query: str | None = None) -> bytes:
    """Bytes of `source` (UnderstoodSearch, PrecedentList or result dicts) as "md", "csv" or
    "docx"."""
    doc = document_of(source, query)
    if fmt == "md":
        return to_markdown(doc).encode("utf-8")
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "docx":
        return to_docx(doc)
    raise ValueError(f"unknown export format {fmt!r}; choose md, csv or docx")


def format_for(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{path}: unknown export format {suffix or '(none)'}; use .md, .csv or .docx"
        )
    return FORMATS[suffix]


def export_to(source, path: str | Path, query: str | None = None) -> Path:
    """Write `source` to `path`; the format comes from the suffix (.md, .csv, .docx)."""
    path = Path(path)
    data = export(source, format_for(path), query)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
