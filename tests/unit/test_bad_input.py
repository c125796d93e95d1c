"""Bad input: every bad file is reported by name with its reason, and the good files of the
same run are indexed all the same."""

import codecs
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sample_documents as docs
from conftest import B2020, B2022, B2023, B2024, BUNDATED, ROOT
from index.build import update_index
from index.store import load_stored


def build(paths, index_dir, embedder, **kw):
    return update_index(
        paths, index_dir, embedder=embedder, cache_path=index_dir.parent / "cache.sqlite", **kw
    )


def by_name(report):
    return {Path(f.path).name: (f.status, f.reason or "") for f in report.files}


@pytest.fixture(scope="module")
def messy_folder(tmp_path_factory):
    """Good bulletins in four encodings/formats beside every kind of broken file."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    folder = tmp_path_factory.mktemp("messy")
    shutil.copy(B2020, folder / "good.txt")
    shutil.copy(B2020, folder / "renamed copy.txt")  # same bytes under another name
    docs.write_pdf(docs.original_lines(B2022), folder / "good.pdf")
    shutil.copy(folder / "good.pdf", folder / "副本 good.pdf")  # a copy of a PDF: also a duplicate
    (folder / "gbk.txt").write_bytes(B2023.read_text(encoding="utf-8").encode("gbk"))
    (folder / "bom.txt").write_bytes(codecs.BOM_UTF8 + B2024.read_bytes())
    # same bulletin, other bytes
    docs.write_markdown(docs.bulletin_blocks(_parse(B2020)), folder / "good.md")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.txt").write_bytes(os.urandom(4096).replace(b"\x00", b"\x01") + b"\x00" * 64)
    whole = (folder / "good.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    docs.write_pdf(
        docs.original_lines(BUNDATED),
        folder / "encrypted.pdf",
        encrypt=StandardEncryption("secret"),
    )
    docs.write_scanned_pdf(folder / "scanned.pdf")
    (folder / "not really.pdf").write_text("这不是PDF，只是改了扩展名的文本。", encoding="utf-8")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04" + os.urandom(512))
    (folder / "menu only.html").write_text(
        "<html><body><nav><a href='/'>首页</a></nav></body></html>", encoding="utf-8"
    )
    # Word's lock file: not a document, skipped silently
    (folder / "~$good.docx").write_bytes(b"\x00lock")
    return folder


def _parse(path):
    from ingest.pipeline import parse_file

    return parse_file(path, path.stem)


def test_owner_password_only_pdf_is_readable(tmp_path):
    """Restricting printing or copying (an owner password) does not stop text extraction."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    pdf = tmp_path / "restricted.pdf"
    docs.write_pdf(
        docs.original_lines(B2020),
        pdf,
        encrypt=StandardEncryption("", ownerPassword="owner", canCopy=0),
    )
    assert [i.title for i in _parse(pdf).bulletin.items] == [
        i.title for i in _parse(B2020).bulletin.items
    ]


def test_file_over_the_size_limit_is_reported_not_read(tmp_path, fake_embedder, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_bytes(B2023.read_bytes() * 3)  # 36 KB
    shutil.copy(B2020, tmp_path / "small.txt")  # 5.6 KB
    report = build(
        [big, tmp_path / "small.txt"], tmp_path / "index", fake_embedder, max_file_mb=0.02
    )
    status = by_name(report)
    assert status["small.txt"][0] == "added"
    assert (
        status["big.txt"][0] == "failed" and "文件过大（35 KB，上限 20 KB）" in status["big.txt"][1]
    )
    assert (
        "--max-file-mb" in status["big.txt"][1] and "BULLETIN_MAX_FILE_MB" in status["big.txt"][1]
    )
    monkeypatch.setenv("BULLETIN_MAX_FILE_MB", "1")  # without the argument, the environment decides
    assert by_name(build([big], tmp_path / "index", fake_embedder))["big.txt"][0] == "added"
    monkeypatch.setenv("BULLETIN_MAX_FILE_MB", "0.001")
    assert "文件过大" in by_name(build([big], tmp_path / "index", fake_embedder))["big.txt"][1]
    monkeypatch.setenv("BULLETIN_MAX_FILE_MB", "lots")
    with pytest.raises(ValueError, match="BULLETIN_MAX_FILE_MB"):
        build([big], tmp_path / "index", fake_embedder)


def run_ingest(*args, env=None, user=None):
    command = [sys.executable, "-m", "ingest", *args, "--no-progress"]
    if user:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
    )


@pytest.mark.parametrize("when", ["between discover and read", "while parsing"])
def test_file_deleted_during_the_run_is_reported(tmp_path, fake_embedder, monkeypatch, when):
    import index.build as build_module

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(B2020, folder / "stays.txt")
    shutil.copy(B2022, folder / "vanishes.txt")
    if when == "between discover and read":
        real_discover = build_module.discover

        def discover_then_delete(paths):
            found = real_discover(paths)
            (folder / "vanishes.txt").unlink()
            return found

        monkeypatch.setattr(build_module, "discover", discover_then_delete)
    else:
        real_parse = build_module.parse_file

        def delete_then_parse(path, *args, **kwargs):
            if path.name == "vanishes.txt":
                path.unlink()
            return real_parse(path, *args, **kwargs)

        monkeypatch.setattr(build_module, "parse_file", delete_then_parse)
    report = build([folder], tmp_path / "index", fake_embedder)
    status = by_name(report)
    assert status["stays.txt"][0] == "added"
    assert status["vanishes.txt"][0] == "failed" and "文件不存在" in status["vanishes.txt"][1]
    assert len(load_stored(tmp_path / "index").bulletins) == 1


def test_file_changed_while_being_read_is_reported(tmp_path, fake_embedder, monkeypatch):
    import index.build as build_module

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(B2020, folder / "stays.txt")
    shutil.copy(B2022, folder / "edited.txt")
    real_parse = build_module.parse_file

    def edit_then_parse(path, *args, **kwargs):
        if path.name == "edited.txt":  # someone saves the file after its hash was taken
            path.write_text(B2022.read_text(encoding="utf-8") + "\n补充一段。", encoding="utf-8")
        return real_parse(path, *args, **kwargs)

    monkeypatch.setattr(build_module, "parse_file", edit_then_parse)
    status = by_name(build([folder], tmp_path / "index", fake_embedder))
    assert status["stays.txt"][0] == "added"
    assert status["edited.txt"][0] == "failed" and "修改" in status["edited.txt"][1]


def synthetic_bulletin(n: int) -> str:
    """A short bulletin in the printed layout: header, section, one item, footer."""
    cities = [
        "成都市",
        "自贡市",
        "泸州市",
        "德阳市",
        "绵阳市",
        "广元市",
        "遂宁市",
        "内江市",
        "乐山市",
        "南充市",
    ]
    city = cities[n % len(cities)]
    month, day = n % 12 + 1, n % 28 + 1
    return (
        f"四川省地方志工作办公室 2023年 {month}月 "
        f"{day}日\n\n【市州动态】\n\n{city}召开第{n}次史志工作会议\n\n"
        f"{month}月 {day}日，{city}地方志办召开第{n}次工作会议，部署年鉴编纂和志书审查工作。\n\n"
        f"（{city}地方志办）\n\n四川省地方志工作办公室综合处 2023年 {month}月 {day}日印发\n"
    )
