"""Bad input through the command line (real processes, one as user nobody)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import B2020, B2022, B2023, ROOT
from index.store import load_stored
from test_bad_input import (  # from tests/unit
    build,
    by_name,
    messy_folder,  # noqa: F401  (a fixture)
    run_ingest,
)


def test_every_bad_file_is_named_with_its_reason_and_the_rest_indexed(
    tmp_path,
    messy_folder,  # noqa: F811  (the fixture)
    fake_embedder,
):
    index_dir = tmp_path / "index"
    report = build(
        [messy_folder, tmp_path / "missing.txt", ROOT / "pyproject.toml"], index_dir, fake_embedder
    )
    status = by_name(report)
    for good in ("good.txt", "good.pdf", "gbk.txt", "bom.txt", "good.md"):
        assert status[good][0] == "added", (good, status[good])
    expected_failures = {
        "empty.txt": "文件为空",
        "junk.txt": "不是文本文件",
        "truncated.pdf": "PDF 文件已损坏或不完整",
        "encrypted.pdf": "PDF 已加密",
        "scanned.pdf": "需要OCR",
        "not really.pdf": "不是 PDF 文件",
        "broken.docx": "DOCX 文件已损坏",
        "menu only.html": "没有",
        "missing.txt": "不存在",
        "pyproject.toml": "不支持的文件类型",
    }
    for name, reason in expected_failures.items():
        assert status[name][0] == "failed" and reason in status[name][1], (name, status[name])
    assert "needs OCR" in status["scanned.pdf"][1]  # English follows the Chinese
    assert status["renamed copy.txt"][0] == "duplicate"
    assert status["renamed copy.txt"][1].endswith(
        f"same content as {messy_folder.resolve() / 'good.txt'}"
    )
    assert (
        status["副本 good.pdf"][0] == "duplicate"
        and str(messy_folder.resolve() / "good.pdf") in status["副本 good.pdf"][1]
    )
    assert "~$good.docx" not in status
    assert len(report.failed) == len(expected_failures)
    stored = load_stored(index_dir)
    assert len(stored.bulletins) == 5  # good.txt, good.pdf, gbk.txt, bom.txt, good.md
    formats = sorted(b["source_format"] for b in stored.bulletins.values())
    assert formats == ["md", "pdf", "txt", "txt", "txt"]
    assert {b["encoding"] for b in stored.bulletins.values()} >= {"gb18030", "utf-8-sig", "utf-8"}


def test_cli_size_limit_from_flag_and_environment(tmp_path):
    shutil.copy(B2020, tmp_path / "small.txt")  # 5.6 KB
    shutil.copy(B2023, tmp_path / "large.txt")  # 12 KB
    index_dir = tmp_path / "index"
    limited = run_ingest(
        str(tmp_path / "small.txt"),
        str(tmp_path / "large.txt"),
        "--index",
        str(index_dir),
        env={"BULLETIN_MAX_FILE_MB": "0.008"},
    )
    assert limited.returncode == 1, limited.stderr
    assert (
        "large.txt" in limited.stdout
        and "文件过大" in limited.stdout
        and "其余文件已正常索引" in limited.stdout
    )
    assert "1 期简报" in limited.stdout
    # The flag wins over the environment (nothing new to embed: quick).
    flagged = run_ingest(
        str(tmp_path / "large.txt"),
        "--index",
        str(index_dir),
        "--max-file-mb",
        "0.008",
        env={"BULLETIN_MAX_FILE_MB": "1"},
    )
    assert (
        flagged.returncode == 1 and "上限 8 KB" in flagged.stdout and "1 期简报" in flagged.stdout
    )
    bad = run_ingest(
        str(tmp_path / "small.txt"), "--index", str(index_dir), env={"BULLETIN_MAX_FILE_MB": "lots"}
    )
    assert (
        bad.returncode == 2
        and "BULLETIN_MAX_FILE_MB" in bad.stderr
        and "Traceback" not in bad.stderr
    )


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root and setpriv to run the ingest as user nobody (root reads any file)",
)
def test_unreadable_file_reported_when_ingesting_as_another_user():
    # tmp_path lives in a root-only folder: nobody needs a world-writable place of its own.
    with tempfile.TemporaryDirectory(prefix="bulletin-nobody-") as workdir:
        work = Path(workdir)
        work.chmod(0o777)
        shutil.copy(B2020, work / "readable.txt")
        shutil.copy(B2022, work / "secret.txt")
        (work / "readable.txt").chmod(0o644)
        (work / "secret.txt").chmod(0o600)  # root's file: nobody may not read it
        result = run_ingest(
            str(work),
            "--index",
            str(work / "index"),
            user="nobody",
            env={"HOME": workdir, "TMPDIR": workdir},
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "secret.txt" in result.stdout and "没有读取权限" in result.stdout
        assert "1 期简报" in result.stdout and "Traceback" not in result.stderr
