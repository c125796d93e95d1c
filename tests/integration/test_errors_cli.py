"""Entry points turn errors into one line, as a user running them sees it (real processes)."""

from __future__ import annotations

from conftest import B2022, cli
from fakes import FakeEmbedder
from index.build import update_index


def test_eval_reports_an_embedder_problem_in_one_line(tmp_path):
    index_dir = tmp_path / "index"
    update_index([B2022], index_dir, embedder=FakeEmbedder(), cache_path=tmp_path / "cache.sqlite")
    for args in (("-m", "eval"), ("-m", "index.search")):
        result = cli(
            *args,
            "--index",
            str(index_dir),
            *(("--out", str(tmp_path / "out")) if args[1] == "eval" else ("年鉴",)),
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert (
            result.stderr.strip()
            .splitlines()[-1]
            .startswith("错误 / error: unknown embedder spec 'fake/")
        )
