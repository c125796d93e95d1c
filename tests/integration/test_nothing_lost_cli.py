"""Nothing lost, as the command-line user and the app see it (real processes)."""

from __future__ import annotations

import shutil

from conftest import cli
from index.store import load_stored
from test_nothing_lost import (  # from tests/unit
    build,
    damage_faiss,
    share,  # noqa: F401  (a fixture)
)


def test_app_refuses_to_build_the_sample_over_a_damaged_index(tmp_path, share, fake_embedder):  # noqa: F811
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    (index_dir / "manifest.json").unlink()
    before = {p.name: p.read_bytes() for p in index_dir.iterdir() if p.is_file()}
    result = cli("app.py", "--index", str(index_dir), check=False)
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert (
        str(index_dir) in message
        and "manifest.json" in message
        and "python -m ingest --repair --index" in message
    )
    assert "data/bulletins" not in message
    assert {p.name: p.read_bytes() for p in index_dir.iterdir() if p.is_file()} == before


def test_cli_exit_status_and_report_for_a_missing_folder(tmp_path, share, fake_embedder):  # noqa: F811
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    shutil.rmtree(tmp_path / "share")
    # The CLI uses the real model only when something must be embedded: here nothing is.
    result = cli(
        "-m", "ingest", str(share), "--index", str(index_dir), "--no-progress", check=False
    )
    assert result.returncode == 1, result.stderr
    assert "暂不可读（保留）" in result.stdout and "文件或文件夹不存在" in result.stdout
    assert len(load_stored(index_dir).bulletins) == 5


def test_search_cli_names_the_damaged_file(tmp_path, share, fake_embedder):  # noqa: F811
    index_dir = tmp_path / "index"
    build([share], index_dir, fake_embedder)
    damage_faiss(index_dir)
    result = cli("-m", "index.search", "--index", str(index_dir), "年鉴", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "faiss.index" in result.stderr and "--repair" in result.stderr
