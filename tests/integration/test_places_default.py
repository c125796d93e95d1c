"""The default gazetteer as a new process loads it."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from ingest.places import Gazetteer, load_gazetteer
from test_places import g  # noqa: F401  (a fixture, from tests/unit)


def test_load_default_and_cache(g):  # noqa: F811
    assert load_gazetteer() is g
    assert Gazetteer.load().resolve("达州").code == "5117"
    assert (
        Gazetteer.load(ROOT / "data" / "gazetteer" / "sichuan_divisions.json").resolve("大竹").code
        == "511724"
    )
