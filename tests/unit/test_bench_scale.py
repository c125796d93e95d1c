"""The scale benchmark runs end to end on a tiny archive, in this process, with the stub
embedder, and its synthetic archive looks like an ingested one."""

import json
import sys
from collections import Counter

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from bench_scale import FIRST_DAY, KEYS, LAST_DAY, run
from index.store import load_stored
from stub_embedder import StubEmbedder, WordsStubEmbedder


def test_stub_vectors_are_unit_and_seeded_by_the_text():
    embedder = StubEmbedder()
    a, b, a_again = embedder.embed_passages(["达州市", "巴中市", "达州市"])
    assert a.shape == (384,) and abs(float(a @ a) - 1) < 1e-5
    assert (a == a_again).all() and (a == embedder.embed_queries(["达州市"])[0]).all()
    assert abs(float(a @ b)) < 0.3


def test_tiny_run_reports_every_key(tmp_path):
    result = run(200, tmp_path, n_queries=3, isolate=False)
    json.dumps(result)
    assert list(result)[: len(KEYS)] == list(KEYS)
    assert all(isinstance(result[key], (int, float)) for key in KEYS), result
    assert result["chunks"] == 200 and result["ann_recall_at_10"] == 1.0
    assert result["add_one_s"] > 0 and result["first_dated_s"] > 0

    stored = load_stored(tmp_path / "index")
    assert len(stored.chunks) == 200 and stored.sentences is None
    assert stored.manifest["embedder"]["id"] == WordsStubEmbedder().id  # the default stub
    for chunk in stored.chunks:
        bulletin = stored.bulletins[chunk.doc_id]
        assert bulletin["text_clean"][chunk.start : chunk.end] == chunk.text
        assert chunk.meta.date is None or FIRST_DAY.isoformat() <= chunk.meta.date
        assert chunk.meta.date is None or chunk.meta.date <= LAST_DAY.isoformat()
    cities = Counter(city for chunk in stored.chunks for city in chunk.meta.cities)
    assert len(cities) >= 15  # permuted over the 21 cities, not the samples' few
    assert len({chunk.embed_text for chunk in stored.chunks}) >= 195
    for doc_id, bulletin in stored.bulletins.items():
        entry = stored.manifest["files"][bulletin["path"]]
        assert entry["doc_id"] == doc_id and entry["chunks"] > 0  # update_index keeps each one
