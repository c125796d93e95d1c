"""Nothing lost: legacy .doc/.wps files through LibreOffice, and documents that are not
bulletins (a notice, a letter, a policy text, a yearbook chapter) indexed as plain documents."""

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

import sample_documents as docs
from conftest import ALL, B2020, B2024
from ingest.errors import (
    DamagedFileError,
    EmptyFileError,
    EncryptedFileError,
    IngestError,
    NoContentError,
)
from ingest.formats import legacy_word
from ingest.formats.legacy_word import find_soffice, is_encrypted_doc, read_legacy_word
from ingest.parsing import PLAIN_DOCUMENT_WARNING, date_line
from ingest.pipeline import parse_file

SOFFICE = find_soffice()
# passes the format check
WORD_LIKE = legacy_word.OLE_MAGIC + "WordDocument".encode("utf-16-le") + bytes(4096)
needs_soffice = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed: sudo apt-get install libreoffice-writer-nogui",
)


def structure(bulletin):
    """What must not depend on the file format (as in test_formats)."""
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
        "footer": bulletin.metadata.get("footer"),
    }


# -- A. legacy .doc and .wps -------------------------------------------------------


def soffice_convert(sources: list[Path], target: str, out_dir: Path, profile: Path) -> None:
    """What a user's Word/WPS would have saved: LibreOffice writes the legacy format (one start for
    all files)."""
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            *map(str, sources),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def legacy_files(tmp_path_factory, parsed):
    """{txt path: .doc path} for two bulletins, made by LibreOffice from DOCX versions of them."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("legacy")
    docx = []
    for path in (B2020, B2024):
        docx.append(folder / f"{path.stem}.docx")
        docs.write_docx(docs.bulletin_blocks(parsed[path]), docx[-1])
    soffice_convert(docx, "doc", folder, folder / "profile")
    out = {path: folder / f"{path.stem}.doc" for path in (B2020, B2024)}
    for doc in out.values():
        assert doc.read_bytes().startswith(legacy_word.OLE_MAGIC)  # a real Word 97-2003 file
    return out


@needs_soffice
@pytest.mark.parametrize("path", [B2020, B2024], ids=lambda p: p.name)
def test_doc_parses_like_the_txt(parsed, legacy_files, path):
    started = time.perf_counter()
    result = parse_file(legacy_files[path], path.stem)
    seconds = time.perf_counter() - started
    txt = parsed[path].bulletin
    assert structure(result.bulletin) == structure(txt)
    assert result.bulletin.text_clean == txt.text_clean
    assert [c.text for c in result.chunks] == [c.text for c in parsed[path].chunks]
    assert result.bulletin.source_format == "doc" and result.bulletin.encoding == "doc"
    assert PLAIN_DOCUMENT_WARNING not in result.warnings
    print(f"{path.name}: .doc read through LibreOffice in {seconds:.1f} s")


@needs_soffice
def test_wps_file_is_read_like_a_doc(parsed, legacy_files, tmp_path):
    """WPS Writer saves .wps as an OLE Word file: a .doc renamed .wps is what WPS users have
    (LibreOffice has no WPS export of its own: --convert-to wps writes Word 97 too)."""
    wps = tmp_path / "简报 第24期.wps"  # spaces and Chinese in the name
    shutil.copy(legacy_files[B2020], wps)
    result = parse_file(wps, "w")
    assert structure(result.bulletin) == structure(parsed[B2020].bulletin)
    assert result.bulletin.source_format == "wps"


@needs_soffice
def test_doc_saved_under_a_docx_name_is_converted(parsed, legacy_files, tmp_path):
    renamed = tmp_path / "renamed.docx"
    shutil.copy(legacy_files[B2024], renamed)
    assert structure(parse_file(renamed, "r").bulletin) == structure(parsed[B2024].bulletin)


@needs_soffice
def test_concurrent_conversions_do_not_collide(legacy_files):
    """Each conversion has its own LibreOffice profile, so two at once both finish."""
    results, errors = {}, []

    def convert(path):
        try:
            results[path] = read_legacy_word(path.read_bytes(), str(path))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=convert, args=(p,)) for p in legacy_files.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and len(results) == 2 and all(results.values())


def test_without_libreoffice_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # soffice not on PATH
    monkeypatch.setattr(legacy_word, "KNOWN_LOCATIONS", ())
    assert find_soffice() is None
    for name in ("old.doc", "old.wps"):
        path = tmp_path / name
        path.write_bytes(WORD_LIKE)
        with pytest.raises(IngestError) as caught:
            parse_file(path, "x")
        assert str(caught.value).startswith(str(path))  # names the file
        assert "需要安装 LibreOffice" in str(
            caught.value
        ) and "sudo apt-get install libreoffice-writer-nogui" in str(caught.value)
        assert "install LibreOffice to read .doc/.wps files" in str(caught.value)


def test_random_bytes_named_doc_are_refused_without_starting_libreoffice(tmp_path, monkeypatch):
    """LibreOffice would import them as plain text: garbage in the index."""
    monkeypatch.setattr(legacy_word, "find_soffice", lambda: pytest.fail("LibreOffice started"))
    for name, data in (
        ("damaged.doc", legacy_word.OLE_MAGIC + os.urandom(8192)),
        ("junk.wps", os.urandom(8192)),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DamagedFileError, match="不是 Word/WPS 文档") as caught:
            parse_file(path, "x")
        assert str(caught.value).startswith(str(path))
    assert "加密" in str(
        pytest.raises(DamagedFileError, parse_file, tmp_path / "damaged.doc", "x").value
    )


@needs_soffice
def test_conversion_failure_is_named_and_may_be_encrypted(legacy_files, tmp_path):
    data = bytearray(legacy_files[B2020].read_bytes())
    fib = next(at for at in range(512, len(data), 512) if data[at : at + 2] == b"\xec\xa5")
    data[fib : fib + 4096] = bytes(range(256)) * 16  # the document stream overwritten
    path = tmp_path / "damaged.doc"
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedFileError) as caught:
        parse_file(path, "x")
    message = str(caught.value)
    assert message.startswith(str(path)) and "LibreOffice 无法转换" in message
    assert "加密" in message and "password" in message  # encrypted .doc files are OLE too


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="the fake LibreOffice is a shell script")
def test_conversion_that_hangs_times_out_and_is_ended(tmp_path, monkeypatch):
    marker = tmp_path / "still running"
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nsleep 30\ntouch '{marker}'\n")
    fake.chmod(0o755)
    monkeypatch.setattr(legacy_word, "find_soffice", lambda: str(fake))
    started = time.perf_counter()
    with pytest.raises(DamagedFileError, match="超时") as caught:
        read_legacy_word(WORD_LIKE, "slow.doc", timeout=1)
    assert time.perf_counter() - started < 10
    assert str(caught.value).startswith("slow.doc") and "timed out" in str(caught.value)
    time.sleep(0.5)
    assert not marker.exists()


@needs_soffice
def test_encrypted_doc_is_refused_without_starting_libreoffice(legacy_files, tmp_path, monkeypatch):
    data = bytearray(legacy_files[B2020].read_bytes())
    fib = next(at for at in range(512, len(data), 512) if data[at : at + 2] == b"\xec\xa5")
    data[fib + 11] |= 0x01  # fEncrypted: bit 8 of the little-endian flags word at byte 10
    assert is_encrypted_doc(bytes(data)) and not is_encrypted_doc(legacy_files[B2020].read_bytes())
    path = tmp_path / "secret.doc"
    path.write_bytes(bytes(data))
    monkeypatch.setattr(legacy_word, "find_soffice", lambda: pytest.fail("LibreOffice started"))
    with pytest.raises(EncryptedFileError, match="加密"):
        parse_file(path, "x")


def test_docx_under_a_doc_name_needs_no_libreoffice(parsed, tmp_path, monkeypatch):
    monkeypatch.setattr(legacy_word, "find_soffice", lambda: pytest.fail("LibreOffice started"))
    path = tmp_path / "actually docx.doc"
    docs.write_docx(docs.bulletin_blocks(parsed[B2020]), path)
    assert structure(parse_file(path, "x").bulletin) == structure(parsed[B2020].bulletin)


# -- B. documents that are not bulletins ----------------------------------------------

NOTICE = [
    "关于开展2023年度全省地方志工作检查的通知",
    "各市（州）地方志工作机构：",
    "为深入贯彻落实《地方志工作条例》，推动全省地方志事业高质量发展，经研究，决定开展2023年度全省地方志工作检查。"
    "现将有关事项通知如下。",
    "一、检查内容",
    "重点检查各地二轮修志扫尾、综合年鉴编纂出版、地方志资源开发利用等工作情况。",
    "二、时间安排",
    "6月上旬各地开展自查，6月下旬省地方志办组织抽查。",
    "三、工作要求",
    "各地要高度重视，认真组织自查，如实填报有关材料，于6月30日前将自查报告报送省地方志办。",
    "联系人：张三，电话：028-12345678。",
    "四川省地方志工作办公室",
    "2023年5月6日",
]
POLICY = [
    "四川省地方志资料征集管理办法",
    "第一章 总则",
    "第一条 为规范地方志资料征集工作，根据《地方志工作条例》《四川省〈地方志工作条例〉实施办法》，"
    "结合本省实际，制定本办法。",
    "第二条 本办法所称地方志资料，是指编纂地方志书、地方综合年鉴所需的文字、图片、音像等资料。",
    "第二章 征集",
    "第三条 县级以上地方志工作机构负责本行政区域内地方志资料的征集、整理和保管。",
    "第四条 国家机关、社会团体、企业事业单位和其他组织应当按照要求报送地方志资料，不得拒报、迟报。",
    "第五条 本办法自2024年1月1日起施行。",
]
LETTER = [
    "关于商请提供年鉴编纂资料的函",
    "成都市地方志编纂委员会办公室：",
    "为做好《四川年鉴（2024）》编纂工作，请贵办于10月31日前提供本市2023年度重要统计数据和大事记资料。",
    "感谢支持。",
    "四川年鉴社",
    "二〇二四年九月十日",
]
NAMES = [
    # every line short: the bulletin parser found nothing here
    "2023年度全省地方志系统先进集体名单",
    "成都市地方志办公室",
    "绵阳市地方志办公室",
    "乐山市地方志编纂中心",
    "南充市地方志办公室",
    "达州市地方志办公室",
]
YEARBOOK = [
    "地方志工作",
    "【概况】2022年，全市地方志系统坚持志鉴编纂与开发利用并重，完成区县综合年鉴编纂出版11部。",
    "【年鉴编纂】全年组织篇目审查3次，《雅安年鉴（2022）》获评“四川精品年鉴”。",
    "【方志馆建设】雅安市方志馆完成布展，免费向公众开放，全年接待观众2.1万人次。",
]
EXPECT = {  # name: (lines, title, date, date_source, issuer)
    "notice": (NOTICE, NOTICE[0], "2023-05-06", "footer", "四川省地方志工作办公室"),
    "policy": (
        POLICY,
        POLICY[0],
        None,
        None,
        None,
    ),  # a date inside a sentence is not the document's
    "letter": (LETTER, LETTER[0], "2024-09-10", "footer", "四川年鉴社"),
    "names": (NAMES, NAMES[0], None, None, None),
    "yearbook": (YEARBOOK, YEARBOOK[0], None, None, None),  # years in the text: still no date
}


def write_plain(name: str, kind: str, folder: Path) -> Path:
    lines = EXPECT[name][0]
    if kind == "txt":
        path = folder / f"{name}.txt"
        path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    else:
        from docx import Document

        path = folder / f"{name}.docx"
        document = Document()
        document.add_paragraph().add_run(lines[0]).bold = True  # the title, as typed in Word
        for line in lines[1:]:
            document.add_paragraph(line)
        document.save(str(path))
    return path


@pytest.mark.parametrize(
    "name, kind", [(n, "txt") for n in EXPECT] + [("notice", "docx"), ("letter", "docx")]
)
def test_plain_documents_are_indexed_whole(name, kind, tmp_path):
    lines, title, date, date_source, issuer = EXPECT[name]
    result = parse_file(write_plain(name, kind, tmp_path), name)
    bulletin = result.bulletin
    assert bulletin.metadata["kind"] == "document" and bulletin.metadata["title"] == title
    assert PLAIN_DOCUMENT_WARNING in result.warnings
    assert (bulletin.date, bulletin.date_source, bulletin.issuer) == (date, date_source, issuer)
    assert bulletin.date_estimate is None and bulletin.issue_no is None
    assert bulletin.source_format == kind
    assert all(i.title == title and i.section is None for i in bulletin.items)
    assert {c.meta.title for c in result.chunks} == {title}
    for line in lines[1:] if len(lines) > 1 else lines:
        assert any(line in c.text for c in result.chunks), line  # every paragraph is in some chunk
    for chunk in result.chunks:
        assert bulletin.text_clean[chunk.start : chunk.end] == chunk.text
        assert chunk.meta.date == date


def test_headings_and_articles_start_items(tmp_path):
    notice = parse_file(write_plain("notice", "txt", tmp_path), "n").bulletin
    assert [i.subtitle for i in notice.items] == [
        None,
        "一、检查内容",
        "二、时间安排",
        "三、工作要求",
    ]
    assert notice.items[3].event_dates[0] == "2023-06-30"  # "6月30日" in the document's year
    policy = parse_file(write_plain("policy", "txt", tmp_path), "p").bulletin
    starts = [
        policy.text_clean[i.body_span.start : i.body_span.end].split("\n")[0] for i in policy.items
    ]
    # 第一章 with its 第一条
    assert starts == [
        POLICY[1],
        POLICY[3],
        POLICY[4],
        POLICY[6],
        POLICY[7],
    ]
    assert [i.subtitle for i in policy.items] == ["第一章 总则", None, "第二章 征集", None, None]
    yearbook = parse_file(write_plain("yearbook", "txt", tmp_path), "y").bulletin
    # 雅安 comes in the later entries
    assert len(yearbook.items) == 3 and yearbook.items[0].cities == ()
    assert "雅安市" in yearbook.items[1].cities + yearbook.items[2].cities


def test_short_paragraphs_run_together_and_long_ones_stand_alone(tmp_path):
    short = [f"第{n}项工作已经完成。" for n in range(1, 9)]
    long = "会议强调，" + "要坚持依法修志，提高志书质量，" * 30 + "确保按期完成任务。"
    path = tmp_path / "summary.txt"
    path.write_text("\n\n".join(["工作总结", *short, long, *short]) + "\n", encoding="utf-8")
    bulletin = parse_file(path, "s").bulletin
    bodies = [bulletin.text_clean[i.body_span.start : i.body_span.end] for i in bulletin.items]
    assert bodies == ["\n".join(short), long, "\n".join(short)]


def test_title_only_when_the_first_paragraph_is_short(tmp_path):
    path = tmp_path / "untitled.txt"
    body = (
        "各市（州）地方志工作机构要按照省委、省政府部署，认真做好年鉴编纂出版工作，确保质量，按时完成。"
        * 2
    )
    path.write_text(body + "\n\n请认真贯彻执行。\n", encoding="utf-8")
    result = parse_file(path, "u")
    assert result.bulletin.metadata["title"] is None and all(
        i.title == "" for i in result.bulletin.items
    )
    assert body in result.chunks[0].text
    one_line = tmp_path / "one line.txt"
    one_line.write_text("关于做好年鉴编纂工作的通知\n", encoding="utf-8")
    [chunk] = parse_file(one_line, "o").chunks
    assert chunk.text == "关于做好年鉴编纂工作的通知" and chunk.meta.title == chunk.text


RED_HEADER = [
    "四川省地方志工作办公室文件",
    "川志办发〔2023〕5号",
    "四川省地方志工作办公室关于印发",
    "《四川省地方志资料征集管理办法》的通知",
    "各市（州）地方志工作机构：",
]
SHORT_BODY = [
    "现将《四川省地方志资料征集管理办法》印发给你们，请结合本地区实际，认真贯彻执行。执行中遇到的问题，请及时反馈。",
    "附件：四川省地方志资料征集管理办法",
    "四川省地方志工作办公室",
    "2023年5月6日",
]


def write_lines_docx(lines: list[str], path: Path) -> Path:
    from docx import Document

    document = Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def test_red_header_lines_are_not_the_title_but_are_indexed(tmp_path):
    path = write_lines_docx([*RED_HEADER, *NOTICE[2:10], *SHORT_BODY], tmp_path / "redhead.docx")
    result = parse_file(path, "r")
    # printed on two lines
    title = "四川省地方志工作办公室关于印发《四川省地方志资料征集管理办法》的通知"
    assert result.bulletin.metadata["title"] == title and result.chunks[0].meta.title == title
    assert "川志办发〔2023〕5号" in result.chunks[0].text  # the document number is searchable
    assert (result.bulletin.date, result.bulletin.issuer) == (
        "2023-05-06",
        "四川省地方志工作办公室",
    )


def test_short_red_header_notice_keeps_its_paragraphs(tmp_path):
    path = write_lines_docx([*RED_HEADER, *SHORT_BODY], tmp_path / "short.docx")
    result = parse_file(path, "r")
    assert result.bulletin.text_clean.split("\n")[0] == RED_HEADER[0]


def test_date_lines():
    assert date_line("2023年5月6日") == ("2023-05-06", None)
    assert date_line("四川省地方志工作办公室 2023年5月6日") == (
        "2023-05-06",
        "四川省地方志工作办公室",
    )
    assert date_line("二〇二三年十二月二十日") == ("2023-12-20", None)
    assert date_line("（2023年5月6日四川省人民政府第10次常务会议通过）") == ("2023-05-06", None)
    assert date_line("四川省人民政府办公厅 2023年5月8日印发") == (
        "2023-05-08",
        "四川省人民政府办公厅",
    )
    assert date_line("请于2023年6月30日前报送。") is None
    assert date_line("本办法自2024年1月1日起施行。") is None
    assert date_line("2023年2月30日") is None


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_bulletins_are_still_parsed_as_bulletins(parsed, path):
    result = parsed[path]
    assert "kind" not in result.bulletin.metadata and PLAIN_DOCUMENT_WARNING not in result.warnings
    assert all(i.source_org for i in result.bulletin.items)


def test_a_file_without_text_still_fails(tmp_path):
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(EmptyFileError):
        parse_file(blank, "b")
    from docx import Document

    empty = tmp_path / "empty.docx"
    Document().save(str(empty))
    with pytest.raises(NoContentError):
        parse_file(empty, "e")


def test_password_protected_docx_is_named_as_encrypted(tmp_path, monkeypatch):
    """A password-protected DOCX is an OLE file too, but holds an "EncryptedPackage": not an old
    .doc."""
    monkeypatch.setattr(legacy_word, "find_soffice", lambda: pytest.fail("LibreOffice started"))
    data = (
        legacy_word.OLE_MAGIC + bytes(1024) + "EncryptedPackage".encode("utf-16-le") + bytes(1024)
    )
    for name in ("locked.docx", "locked.doc"):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(EncryptedFileError, match="加密"):
            parse_file(tmp_path / name, "x")
