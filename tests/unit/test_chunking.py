"""Chunks cite the cleaned text exactly and never cross reports."""

import json

from conftest import ALL, B2022, B2024
from ingest.chunking import ChunkingParams, chunk_bulletin
from ingest.model import Chunk, ChunkMeta


def test_every_chunk_is_an_exact_slice_of_the_cleaned_text(parsed):
    for path in ALL:
        bulletin = parsed[path].bulletin
        for chunk in parsed[path].chunks:
            assert bulletin.text_clean[chunk.start : chunk.end] == chunk.text, chunk.chunk_id


def test_chunk_ids_and_metadata(parsed):
    chunks = parsed[B2022].chunks
    assert [c.chunk_id for c in chunks] == [f"{B2022.stem}#{n}" for n in range(len(chunks))]
    dazhou = next(c for c in chunks if c.text.startswith("10月10日，达州市"))
    assert dazhou.meta.places == ("达州市",) and dazhou.meta.date == "2022-11-02"
    assert dazhou.meta.section == "市州动态"
    assert dazhou.embed_text.startswith("成都、泸州等地积极推进精品年鉴品读季活动走深走实\n")
    assert dazhou.embed_text.endswith(dazhou.text)


def test_chunks_never_cross_reports(parsed):
    for path in ALL:
        bulletin = parsed[path].bulletin
        spans = [r.span for item in bulletin.items for r in item.reports]
        for chunk in parsed[path].chunks:
            assert any(s.start <= chunk.start and chunk.end <= s.end for s in spans), chunk.chunk_id


def test_long_reports_split_with_overlap_on_chinese_boundaries(parsed):
    bulletin = parsed[B2024].bulletin
    small = ChunkingParams(chunk_size=200, chunk_overlap=40)
    chunks = chunk_bulletin(bulletin, small)
    suining = [c for c in chunks if c.meta.item_index == 3 and c.meta.report_index == 0]
    assert len(suining) >= 4
    pairs = list(zip(suining, suining[1:]))
    assert all(b.start <= a.end + 1 for a, b in pairs)  # no text lost between pieces
    assert any(b.start < a.end for a, b in pairs)  # pieces cut mid-sentence share an overlap
    assert all(a.text[-1] in "。！？；，、" for a, _ in pairs)
    assert all(len(c.text) <= 200 for c in chunks)
    for c in chunks:
        assert bulletin.text_clean[c.start : c.end] == c.text


def test_chunk_meta_keeps_the_chunks_jsonl_form(parsed):
    chunk = parsed[B2022].chunks[0]
    line = chunk.to_dict()
    meta = line["meta"]
    # "ocr" only when true
    assert list(meta) == [
        "title",
        "subtitle",
        "section",
        "date",
        "date_estimate",
        "issue_no",
        "issuer",
        "places",
        "cities",
        "source_org",
        "event_dates",
        "item_index",
        "item_id",
        "report_index",
        "piece",
        "pieces",
        "combined",
        "path",
        "pages",
    ]
    assert (
        isinstance(meta["places"], list)
        and isinstance(meta["event_dates"], list)
        and meta["pages"] is None
    )
    again = Chunk.from_dict(json.loads(json.dumps(line, ensure_ascii=False)))
    assert again == chunk and isinstance(again.meta.places, tuple)
    assert ChunkMeta.from_dict({**meta, "ocr": True, "pages": [2, 3]}).to_dict() == {
        **meta,
        "ocr": True,
        "pages": [2, 3],
    }
    # An older index lacks keys (defaults); a newer one may add some (kept and written back).
    old = ChunkMeta.from_dict({"title": "t", "places": ["达州市"], "future": {"x": 1}})
    assert (
        old.places == ("达州市",)
        and old.cities == ()
        and old.report_index == 0
        and old.pages is None
    )
    assert old.to_dict()["future"] == {"x": 1}
