"""OCR of scanned bulletins (ingest/formats/ocr.py).

A scanned copy of a bundled bulletin is made at test time the way bench/bench_ocr.py
makes one (its TXT laid out as a PDF, pages rasterised at 300 dpi, skewed, grainy and
JPEG-compressed like an office scanner, saved as an image-only PDF) and ingested: it
must parse like the TXT, read with high character accuracy, and answer the same
dev questions. The OCR tests need Debian's tesseract-ocr and tesseract-ocr-chi-sim
(`make test` installs them) and a CJK font to draw the pages (fonts-noto-cjk).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ALL, B2020, ROOT
from ingest.errors import NeedsOcrError
from ingest.formats import ocr

sys.path.insert(0, str(ROOT / "bench"))
from bench_ocr import char_accuracy, make_scan

QUESTIONS = ROOT / "eval" / "questions" / "dev.jsonl"
# Measured (docs/ocr.md): a scanner-quality copy of this bulletin reads at ~0.95-0.97 of its
# characters; the threshold leaves a margin for another machine's Tesseract build.
MIN_ACCURACY = 0.90
_SPACE = re.compile(r"\s+")


def _cjk_font() -> bool:
    try:
        return bool(
            subprocess.run(
                ["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        return False


needs_ocr = pytest.mark.skipif(
    ocr.find_tesseract() is None,
    reason="needs tesseract with its Chinese model: sudo apt-get install tesseract-ocr "
    "tesseract-ocr-chi-sim (make system-packages)",
)
needs_font = pytest.mark.skipif(
    not _cjk_font(),
    reason="no CJK font to draw the scanned pages: sudo apt-get install fonts-noto-cjk",
)


@pytest.fixture(scope="module")
def scan_2020(tmp_path_factory):
    """An image-only PDF of the 2020 bulletin (3 pages), as a cheap office scanner makes it."""
    folder = tmp_path_factory.mktemp("scan")
    pdf, images, _ = make_scan(B2020, folder, dpi=300, degraded=True)
    png = folder / "page1.png"
    images[0].save(png, dpi=(300, 300))
    return {"pdf": pdf, "png": png, "pages": len(images)}


@pytest.fixture(scope="module")
def parsed_scan(scan_2020):
    from ingest.pipeline import parse_file

    return parse_file(scan_2020["pdf"], "scan2020")


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def fuzzy_contains(needle: str, haystack: str, max_error_share: float = 0.15) -> bool:
    """needle occurs in haystack with at most that share of its characters misread
    (edit distance to the best-matching substring; whitespace ignored)."""
    needle, haystack = _squash(needle), _squash(haystack)
    previous = [0] * (len(haystack) + 1)  # a match may start anywhere
    for i, char in enumerate(needle, 1):
        current = [i]
        for j, other in enumerate(haystack, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return min(previous) <= max_error_share * len(needle)


# -- a scanned copy parses like the TXT -------------------------------------------------


@needs_ocr
@needs_font
def test_scanned_pdf_parses_like_its_txt(parsed_scan, parsed, scan_2020):
    scan, txt = parsed_scan.bulletin, parsed[B2020].bulletin
    assert scan.ocr and not txt.ocr
    assert (
        scan.source_format == "pdf"
        and scan.page_starts
        and len(scan.page_starts) == scan_2020["pages"]
    )
    assert scan.date == txt.date == "2020-07-20" and scan.issuer == txt.issuer
    assert [i.section for i in scan.items] == [i.section for i in txt.items]
    # Every item is found, under its title give or take a misread character; most titles exactly.
    pairs = list(zip([i.title for i in scan.items], [i.title for i in txt.items]))
    assert len(scan.items) == len(txt.items) and all(
        char_accuracy(t, s) >= 0.8 for s, t in pairs
    ), pairs
    assert sum(s == t for s, t in pairs) >= len(pairs) / 2, pairs
    # "（省地方志办）"
    assert [bool(i.source_org) for i in scan.items] == [bool(i.source_org) for i in txt.items]
    accuracy = char_accuracy(txt.text_clean, scan.text_clean)
    assert accuracy >= MIN_ACCURACY, accuracy
    # The user is told, and every passage card will be marked.
    assert any("OCR" in w and f"{scan_2020['pages']}页" in w for w in parsed_scan.warnings)
    assert all(c.meta.ocr is True for c in parsed_scan.chunks)
    assert not any("ocr" in c.to_dict()["meta"] for c in parsed[B2020].chunks)
    assert scan.to_dict()["ocr"] is True


@needs_ocr
@needs_font
def test_picture_of_a_page_is_read(scan_2020, parsed):
    from ingest.pipeline import SUPPORTED_SUFFIXES, parse_file

    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff"} <= set(SUPPORTED_SUFFIXES)
    page = parse_file(scan_2020["png"], "page1")
    txt = parsed[B2020].bulletin
    assert page.bulletin.ocr and page.bulletin.source_format == "image"
    assert page.bulletin.page_starts is None  # one picture: no page numbers to cite
    assert page.bulletin.date == txt.date
    assert page.bulletin.items and page.bulletin.items[0].title == txt.items[0].title
    # Page 1 is the start of the TXT.
    first = _squash(txt.text_clean)[: len(_squash(page.bulletin.text_clean))]
    assert char_accuracy(first, page.bulletin.text_clean) >= MIN_ACCURACY


@needs_ocr
@needs_font
def test_scanned_copy_answers_the_dev_questions_like_the_txt(tmp_path, scan_2020):
    """The corpus with the 2020 bulletin as a scan retrieves the evidence wherever the all-TXT
    corpus does."""
    from fakes import FakeEmbedder
    from index.build import update_index
    from index.engine import SearchEngine

    txt_corpus, scan_corpus = tmp_path / "txt", tmp_path / "scan"
    txt_corpus.mkdir(), scan_corpus.mkdir()
    for path in ALL:
        shutil.copy(path, txt_corpus / path.name)
        if path != B2020:
            shutil.copy(path, scan_corpus / path.name)
    shutil.copy(scan_2020["pdf"], scan_corpus / "2020-scan.pdf")
    text_2020 = _squash(B2020.read_text(encoding="utf-8"))
    questions = [
        q
        for q in map(json.loads, QUESTIONS.read_text(encoding="utf-8").splitlines())
        if any(_squash(e) in text_2020 for e in q["evidence"])
    ]
    assert len(questions) >= 10

    def answered(corpus, evidence_in):
        index_dir = corpus.parent / f"{corpus.name}-index"
        report = update_index(
            [corpus],
            index_dir,
            embedder=FakeEmbedder(),
            cache_path=corpus.parent / f"{corpus.name}.sqlite",
        )
        assert not report.failed, [(f.path, f.reason) for f in report.failed]
        engine = SearchEngine.open(index_dir, embedder=FakeEmbedder())
        found = set()
        for q in questions:
            hits = engine.search(q["query"], 5, "hybrid")
            if any(evidence_in(e, h.chunk.text) for h in hits for e in q["evidence"]):
                found.add(q["id"])
        return found, engine

    by_txt, _ = answered(txt_corpus, lambda e, text: _squash(e) in _squash(text))
    by_scan, engine = answered(scan_corpus, fuzzy_contains)  # a misread character or two is allowed
    assert len(by_txt) >= 0.7 * len(questions)
    assert by_txt <= by_scan, sorted(by_txt - by_scan)
    assert any(c.meta.ocr for c in engine.stored.chunks)


# -- what happens without an engine, or without text -------------------------------------


def test_without_tesseract_the_scan_says_what_to_install(tmp_path, monkeypatch):
    import sample_documents as docs
    from ingest.documents import load_document

    monkeypatch.setattr(ocr, "find_tesseract", lambda: None)
    docs.write_scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(NeedsOcrError) as caught:
        load_document(tmp_path / "scan.pdf")
    message = str(caught.value)
    assert "需要OCR" in message and "needs OCR" in message and "没有文字层" in message
    assert "sudo apt-get install tesseract-ocr tesseract-ocr-chi-sim" in message

    from PIL import Image

    Image.new("L", (200, 100), 255).save(tmp_path / "page.png")
    with pytest.raises(
        NeedsOcrError, match="sudo apt-get install tesseract-ocr tesseract-ocr-chi-sim"
    ):
        load_document(tmp_path / "page.png")


def test_missing_chinese_model_is_named(monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr, "_languages", lambda exe: frozenset({"eng", "osd"}))
    assert ocr.find_tesseract() is None
    assert (
        "chi_sim" in ocr.missing_engine_reason() and ocr.INSTALL_HINT in ocr.missing_engine_reason()
    )


@needs_ocr
def test_scan_without_text_still_needs_ocr(tmp_path):
    """Grey bars where lines were: OCR finds nothing, and the file is reported, not indexed as
    noise."""
    import sample_documents as docs
    from ingest.documents import load_document

    docs.write_scanned_pdf(tmp_path / "bars.pdf")
    with pytest.raises(NeedsOcrError, match="需要OCR.*needs OCR"):
        load_document(tmp_path / "bars.pdf")


def test_damaged_picture_is_named(tmp_path, monkeypatch):
    from ingest.documents import load_document
    from ingest.errors import DamagedFileError

    monkeypatch.setattr(ocr, "find_tesseract", lambda: "/usr/bin/tesseract")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    with pytest.raises(DamagedFileError, match="图片文件已损坏"):
        load_document(tmp_path / "broken.jpg")


def test_page_cap(tmp_path, monkeypatch):
    import sample_documents as docs
    from ingest.documents import load_document

    monkeypatch.setattr(ocr, "find_tesseract", lambda: "/usr/bin/tesseract")
    monkeypatch.setenv(ocr.ENV_MAX_PAGES, "1")
    docs.write_scanned_pdf(tmp_path / "scan.pdf")  # 2 pages
    with pytest.raises(NeedsOcrError, match=f"共 2 页.*{ocr.ENV_MAX_PAGES}"):
        load_document(tmp_path / "scan.pdf")


# -- Tesseract's habits undone ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("成 都 市 地 方 志 办 印 发 《 成 都 市 “ 精 品", "成都市地方志办印发《成都市“精品"),
        ("作用不断深化 ; 签署《深化川渝地方", "作用不断深化；签署《深化川渝地方"),
        ("宋开慧对下半年工作提五点要求 : 一是聚焦", "宋开慧对下半年工作提五点要求：一是聚焦"),
        ("之举推动地方志事业发展。〈省地方志办）", "之举推动地方志事业发展。（省地方志办）"),
        (
            "建议，指导市州抓好整改落实。《省地方志办）",
            "建议，指导市州抓好整改落实。（省地方志办）",
        ),
        (
            "第24期《总第275期）刊登《大竹县紧扣“三个动作”主动服务大局》信息",
            "第24期（总第275期）刊登《大竹县紧扣“三个动作”主动服务大局》信息",
        ),
        ("全省 21个市〈州)地方综合年鉴 (2020卷）", "全省 21个市（州）地方综合年鉴（2020卷）"),
        (
            "《关于印发〈四川省条例〉的通知》",
            "《关于印发〈四川省条例〉的通知》",
        ),  # a title inside a title stays
        (
            "总浏览量4668.83万次。ratio 1:2, see (a)",
            "总浏览量4668.83万次。ratio 1:2, see (a)",
        ),  # numbers, Latin stay
        (
            "10月21 日，成都市",
            "10月21 日，成都市",
        ),  # digit spacing is the cleaner's job, as for a PDF
    ],
)
def test_tidy_ocr_text(raw, clean):
    assert ocr.tidy_ocr_text(raw) == clean


def test_page_numbers_as_ocr_reads_them_are_dropped():
    lines = ["四川省地方志工作简报", "正文第一行。", "正文第二行。", "一 3 一"]
    assert ocr._drop_page_numbers(lines) == ["四川省地方志工作简报", "正文第一行。", "正文第二行。"]
    assert ocr._drop_page_numbers([".1", "正文。", "，"]) == ["正文。"]
    # mid-page: kept
    assert (
        ocr._drop_page_numbers(["正文。", "正文。", "2020", "正文。", "正文。", "正文。"])[2]
        == "2020"
    )


# -- the passage card -------------------------------------------------------------------


def test_card_of_an_ocr_passage_is_marked():
    from chat.render import card_html

    result = {
        "chunk_id": "scan#0",
        "text": "正文<b>",
        "title": "标题",
        "date": "2020-07-20",
        "citation": "引用",
        "ocr": True,
        "pages": [1],
    }
    html = card_html(result, 1)
    assert "OCR识别" in html and 'class="ocr"' in html and "正文&lt;b&gt;" in html
    assert "OCR识别" not in card_html({**result, "ocr": False}, 1)
    # an index built before the flag existed
    legacy = {k: v for k, v in result.items() if k != "ocr"}
    assert "OCR识别" not in card_html(legacy, 1)
