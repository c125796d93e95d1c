"""Shared fixtures: the bundled corpus, the fake embedder, a built index."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CORPUS = ROOT / "data" / "bulletins"
# The five bundled bulletins, by what they are.
B2020 = CORPUS / "002_f9c5ea7c489fa152.txt"
B2022 = CORPUS / "000_3b2b2a465a3918ef.txt"
B2023 = CORPUS / "003_7407875e2c4c0ab2.txt"
B2024 = CORPUS / "004_80faf2747ee23e99.txt"
BUNDATED = CORPUS / "001_77113442e680a174.txt"
ALL = [B2020, B2022, B2023, B2024, BUNDATED]


@pytest.fixture(scope="session")
def parsed():
    """{path: ParsedFile} for the five bulletins (no model needed)."""
    from ingest.pipeline import parse_file

    return {p: parse_file(p, p.stem) for p in ALL}


@pytest.fixture
def fake_embedder():
    from fakes import FakeEmbedder

    return FakeEmbedder()
