"""Shared fixtures: the bundled corpus, the fake embedder, a built index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# integration tests reuse unit tests' builders
sys.path.insert(0, str(Path(__file__).resolve().parent / "unit"))

CORPUS = ROOT / "data" / "bulletins"
# The five bundled bulletins, by what they are.
B2020 = CORPUS / "002_f9c5ea7c489fa152.txt"
B2022 = CORPUS / "000_3b2b2a465a3918ef.txt"
B2023 = CORPUS / "003_7407875e2c4c0ab2.txt"
B2024 = CORPUS / "004_80faf2747ee23e99.txt"
BUNDATED = CORPUS / "001_77113442e680a174.txt"
ALL = [B2020, B2022, B2023, B2024, BUNDATED]
# The search contract's keys (../shared/DESIGN.md): every result carries at least these.
CONTRACT_KEYS = frozenset(
    {"rank", "chunk_id", "doc_id", "text", "score", "title", "date", "section", "places"}
    | {"source_org", "start", "end"}
)


@pytest.fixture(scope="session")
def parsed():
    """{path: ParsedFile} for the five bulletins (no model needed)."""
    from ingest.pipeline import parse_file

    return {p: parse_file(p, p.stem) for p in ALL}


@pytest.fixture
def fake_embedder():
    from fakes import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """(index folder, its embedder): the five bulletins indexed with the fake embedder, once.
    Shared: copy it before changing it."""
    import shutil

    from fakes import FakeEmbedder
    from index.build import update_index

    root = tmp_path_factory.mktemp("fake_index")
    (root / "bulletins").mkdir()
    for path in ALL:
        shutil.copy(path, root / "bulletins" / path.name)
    embedder = FakeEmbedder()
    update_index([root / "bulletins"], root / "index", embedder=embedder)
    return root / "index", embedder


def cli(*args, check=True):
    """Run a project command as a user would, in a new process."""
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{args} exited {result.returncode}\nstdout:{result.stdout}\nstderr:{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def real_index(tmp_path_factory):
    """The five bulletins indexed with the real bundled model, through the CLI."""
    index_dir = tmp_path_factory.mktemp("real") / "index"
    result = cli("-m", "ingest", str(CORPUS), "--index", str(index_dir), "--no-progress")
    assert "新增" in result.stdout and "5 期简报" in result.stdout
    return index_dir


# --- unit and integration: the folder decides -------------------------------------------------
UNIT = Path(__file__).resolve().parent / "unit"


def pytest_collection_modifyitems(items):
    """tests/unit/ is marked `unit`, tests/integration/ `integration` (and `slow`)."""
    for item in items:
        if UNIT in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.unit)
        else:
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.slow)


class NotInUnitTests(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _unit_tests_start_no_process_and_load_no_model(request, monkeypatch):
    """Unit tests take seconds: a process or a real embedder there fails at once, so a slow
    test cannot creep into `make test-fast`; it belongs in tests/integration/."""
    if UNIT not in Path(request.node.fspath).resolve().parents:
        return

    def refuse(*args, **kwargs):
        raise NotInUnitTests(
            "unit tests start no processes and load no model: move this test to tests/integration/"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr("index.embedders.load_embedder", refuse)
    monkeypatch.setattr("index.engine.load_embedder", refuse)
