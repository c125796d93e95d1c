"""The default gazetteer as a new process loads it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT  # noqa: E402  (the project root)
sys.path.insert(0, str(ROOT))

from ingest.places import Gazetteer, Place, load_gazetteer  # noqa: E402


def test_load_default_and_cache(g):
    assert load_gazetteer() is g
    assert Gazetteer.load().resolve("达州").code == "5117"
    assert Gazetteer.load(ROOT / "data" / "gazetteer" / "sichuan_divisions.json").resolve("大竹").code == "511724"
