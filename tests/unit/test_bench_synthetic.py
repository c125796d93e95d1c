"""The scale benchmark's synthetic bulletins keep the samples' structure and share no embedded
text."""

import sys
from collections import Counter

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from ingest.pipeline import parse_file
from synthetic import SAMPLES, make_corpus, vary


def test_copies_parse_like_their_sample_and_differ_from_each_other(tmp_path):
    samples = {p.stem[:3]: parse_file(p, p.stem) for p in SAMPLES}
    paths = make_corpus(tmp_path, 40)
    texts, dates = Counter(), Counter()
    for path in paths:
        parsed = parse_file(path, path.stem)
        sample = samples[path.stem.split("_")[2]]
        assert [i.section for i in parsed.bulletin.items] == [
            i.section for i in sample.bulletin.items
        ], path.name
        assert len(parsed.chunks) == len(sample.chunks), path.name
        texts.update(c.embed_text for c in parsed.chunks)
        if parsed.bulletin.date:
            dates[(path.stem.split("_")[2], parsed.bulletin.date)] += 1
    assert len(texts) == sum(texts.values())  # no passage would hit another copy's cached embedding
    assert len({p.read_bytes() for p in paths}) == len(paths)  # no duplicate files
    # 8 copies of each dated sample, no two on one date
    assert len(dates) == 32 and set(dates.values()) == {1}


def test_variation_is_deterministic_and_keeps_every_line_width():
    text = SAMPLES[0].read_text(encoding="utf-8")
    assert vary(text, 7) == vary(text, 7) != vary(text, 12)
    assert [len(line) for line in vary(text, 7).splitlines()] == [
        len(line) for line in text.splitlines()
    ]
