"""Understanding-aware retrieval and precedent lists (answer/ask.py, answer/precedent.py) on a real
index of the five bulletins built with the fake embedder (BM25 is the real one)."""

from __future__ import annotations

import pytest

from answer.ask import Policy, ask, date_status, place_match, understand_for
from answer.precedent import PROVINCE, report_place
from answer.understand import understand
from conftest import ALL, B2020
from fakes import FakeEmbedder
from index.build import update_index
from index.engine import SearchEngine
from index.filters import Filters
from ingest.model import ChunkMeta
from ingest.places import load_gazetteer

# issued 品读季 implementation plans
GOLD_PLAN_CITIES = {
    "成都",
    "泸州",
    "德阳",
    "遂宁",
    "资阳",
    "阿坝",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("ask")
    embedder = FakeEmbedder()
    update_index(ALL, root / "index", embedder=embedder, cache_path=root / "cache.sqlite")
    return SearchEngine.open(root / "index", embedder=embedder)


def ids(hits):
    return [h.chunk.chunk_id for h in hits]


def test_nothing_understood_ranks_like_the_plain_search(engine):
    answer = ask(engine, "史志阅览室五有标准", k=5)
    assert answer.understanding.empty() and answer.precedent is None
    assert ids(answer.hits) == ids(engine.search("史志阅览室五有标准", 5))
    off = ask(engine, "达州 年鉴质量", k=5, understand=False)
    assert off.understanding is None and ids(off.hits) == ids(engine.search("达州 年鉴质量", 5))


def test_anchor_is_the_newest_bulletin(engine, tmp_path):
    u = understand_for(engine, "去年各市州赴外省调研")
    assert (u.dates.date_from, u.dates.date_to) == ("2023-01-01", "2023-12-31")
    assert "以最新一期简报2024年3月13日为准" in u.summary
    update_index(
        [B2020], tmp_path / "idx", embedder=FakeEmbedder(), cache_path=tmp_path / "c.sqlite"
    )
    old = SearchEngine.open(tmp_path / "idx", embedder=FakeEmbedder())
    assert understand_for(old, "去年").dates.date_from == "2019-01-01"


def test_a_city_question_finds_its_county_item_first(engine):
    answer = ask(engine, "达州2020年地方志工作得到什么肯定", k=5)
    top = answer.hits[0]
    assert top.chunk.meta.places == ("达州市 › 大竹县",)  # 大竹县 is in 达州
    assert top.why["understanding"]["place"] == 1.0 and top.why["understanding"]["date"] == "in"


def test_boost_ranks_matches_first_but_keeps_the_rest(engine):
    hits = ask(engine, "达州 地方志工作会议", k=20).hits
    places = [h.why["understanding"]["place"] for h in hits]
    assert places[0] == 1.0 and 0.0 in places  # other places are ranked lower, not lost
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    filtered = ask(engine, "达州 地方志工作会议", k=20, policy=Policy(place="filter")).hits
    assert filtered and all("达州市" in h.chunk.meta.cities for h in filtered)


def test_counties_of_a_city(engine):
    hits = ask(engine, "雅安下面的县领导到地方志部门调研", k=3).hits
    assert hits[0].chunk.meta.places == ("雅安市 › 石棉县",)


def test_unknown_dates_are_ranked_lower_or_kept_apart_never_dropped(engine):
    query = "2023年12月评出的首批四川精品年鉴"
    boosted = ask(engine, query, k=10)
    statuses = {h.chunk.doc_id: h.why["understanding"]["date"] for h in boosted.hits}
    # The undated bulletin names "同年12月，评选出首批5部": its passage is kept, as "mentioned".
    assert statuses.get("001_77113442e680a174") in ("mentioned", "unknown")
    separate = ask(
        engine, "去年年鉴质量建设成效", k=5, policy=Policy(date="filter", undated="separate")
    )
    assert separate.undated and all(h.chunk.meta.date is None for h in separate.undated)
    assert all(h.why["understanding"]["date"] in ("in", "mentioned") for h in separate.hits)
    assert separate.ranked() == separate.hits + separate.undated


def test_date_status_uses_event_dates_then_the_bulletin_date(engine):
    u = understand("2024年2月", load_gazetteer())
    assert (
        date_status(u, ChunkMeta.from_dict({"event_dates": ["2024-02-28"], "date": "2024-03-13"}))
        == "in"
    )
    # the event decides
    assert (
        date_status(u, ChunkMeta.from_dict({"event_dates": ["2024-03-12"], "date": "2024-03-13"}))
        == "out"
    )
    assert date_status(u, ChunkMeta.from_dict({"event_dates": [], "date": "2024-02-01"})) == "in"
    assert date_status(u, ChunkMeta.from_dict({"event_dates": [], "date": None})) == "unknown"
    assert (
        date_status(u, ChunkMeta.from_dict({"event_dates": [], "date": None}), "2024年2月召开会议")
        == "mentioned"
    )
    assert (
        date_status(understand("年鉴", load_gazetteer()), ChunkMeta.from_dict({"date": None}))
        == "any"
    )


def test_place_match_shares(engine):
    g = load_gazetteer()
    county = understand("大竹县", g)
    assert (
        place_match(
            county, ChunkMeta.from_dict({"places": ["达州市 › 大竹县"], "cities": ["达州市"]}), 0.5
        )
        == 1.0
    )
    # its city's own item
    assert (
        place_match(county, ChunkMeta.from_dict({"places": ["达州市"], "cities": ["达州市"]}), 0.5)
        == 0.5
    )
    assert (
        place_match(county, ChunkMeta.from_dict({"places": ["广安市"], "cities": ["广安市"]}), 0.5)
        == 0.0
    )


def test_dropping_a_part_stops_favouring_it(engine):
    query = "达州2022年在年鉴质量上做了什么"
    answer = ask(engine, query, k=5, drop=("place:达州市",))
    assert (
        answer.understanding.places == () and answer.understanding.dates.date_from == "2022-01-01"
    )
    assert "达州" not in answer.understanding.search_text()
    assert all(h.why["understanding"]["place"] == 0.0 for h in answer.hits)
    no_date = ask(engine, query, k=5, drop=("date",))
    assert (
        no_date.understanding.dates is None and "2022年" not in no_date.understanding.search_text()
    )


def test_filters_still_apply(engine):
    hits = ask(
        engine, "哪些市州印发了品读季实施方案", k=5, filters=Filters(cities=("德阳市",))
    ).hits
    assert hits and all("德阳市" in h.chunk.meta.cities for h in hits)


def test_precedent_list_groups_reports_by_city(engine):
    answer = ask(engine, "哪些市州印发了精品年鉴品读季活动实施方案?", k=5)
    plist = answer.precedent
    assert plist is not None and answer.understanding.precedent_level == "city"
    names = [g.name for g in plist.groups]
    assert GOLD_PLAN_CITIES <= set(names)
    g = load_gazetteer()
    codes = [g.resolve(grp.city).code for grp in plist.groups if grp.city]
    assert codes == sorted(codes)  # official order: 成都, 泸州, 德阳, 遂宁, …
    assert plist.summary.startswith(
        f"{len([x for x in plist.groups if x.city])}个市州：成都、泸州、德阳、遂宁"
    )
    keys = [e.key for e in plist.entries]
    assert len(keys) == len(set(keys))  # one entry per report
    chengdu = next(grp for grp in plist.groups if grp.name == "成都")
    entry = chengdu.entries[0]
    assert entry.date == "2022-10-21" and entry.place == "成都市"
    assert entry.citation.startswith("《四川省地方志工作简报》2022年11月2日 【市州动态】")
    assert "成都市“精品年鉴品读季”活动实施方案" in entry.text
    for grp in plist.groups:
        dates = [e.date for e in grp.entries if e.date]
        assert dates == sorted(dates)


def test_county_level_list_keeps_county_reports(engine):
    plist = ask(engine, "哪些县领导对史志工作作出批示", k=5).precedent
    assert plist.entries and all("›" in e.place for e in plist.entries)
    assert {"苍溪", "隆昌", "天全"} <= {c for grp in plist.groups for c in grp.counties}


def test_precedent_switch_and_threshold(engine):
    assert ask(engine, "年鉴篇目审查", k=5).precedent is None
    forced = ask(engine, "年鉴篇目审查", k=5, precedent=True).precedent
    assert forced is not None and forced.count >= 2
    strict = ask(
        engine, "年鉴篇目审查", k=5, precedent=True, policy=Policy(precedent_threshold=0.95)
    ).precedent
    assert strict.count < forced.count
    assert all(e.score >= 0.95 for e in strict.entries)
    assert ask(engine, "哪些市州印发了品读季实施方案", k=5, precedent=False).precedent is None


def test_a_long_report_is_one_entry_with_its_matching_text(engine):
    plist = ask(
        engine,
        "省地方志办 年鉴质量建设 篇目审查 复核 质量抽查",
        k=5,
        precedent=True,
        policy=Policy(precedent_threshold=0.0),
    ).precedent
    review = [
        e
        for e in plist.entries
        if e.result["doc_id"] == "001_77113442e680a174" and e.key.endswith("/0#0")
    ]
    assert len(review) == 1 and len(review[0].chunk_ids) == 7  # seven chunks, one report
    text_clean = engine.bulletin("001_77113442e680a174")["text_clean"]
    assert review[0].text in text_clean  # overlapping chunks merged back into the original text


def test_report_place_reads_the_combined_source_line():
    g = load_gazetteer()
    combined = {
        "source_org": "综合省地方志办、乐山市、广安市、雅安市信息",
        "combined": True,
        "cities": ["乐山市", "广安市", "雅安市"],
        "places": ["乐山市", "广安市", "雅安市"],
    }
    assert report_place(ChunkMeta.from_dict({**combined, "report_index": 0}), g) == PROVINCE
    assert (
        report_place(
            ChunkMeta.from_dict({**combined, "report_index": 2, "cities": ["广安市"]}), g
        ).name
        == "广安市"
    )
    counties = {
        "source_org": "综合苍溪县、内江隆昌市、天全县地方志部门信息",
        "combined": True,
        "report_index": 1,
        "cities": ["内江市"],
        "places": ["内江市 › 隆昌市"],
    }
    assert report_place(ChunkMeta.from_dict(counties), g).label == "内江市 › 隆昌市"
    assert (
        report_place(
            ChunkMeta.from_dict({"source_org": "大竹县地方志办", "cities": ["达州市"]}), g
        ).name
        == "大竹县"
    )
    assert (
        report_place(
            ChunkMeta.from_dict({"source_org": None, "places": ["成都市", "成都市 › 武侯区"]}), g
        ).name
        == "武侯区"
    )
    assert report_place(ChunkMeta.from_dict({"source_org": "某某单位", "places": []}), g) is None


def test_policy_parse():
    assert Policy.parse("place=filter,date_bonus=0.25,undated=separate") == Policy(
        place="filter", date_bonus=0.25, undated="separate"
    )
    assert Policy.parse("") == Policy()
    with pytest.raises(ValueError, match="choose one of"):
        Policy.parse("place=maybe")
    with pytest.raises(ValueError, match="key=value"):
        Policy.parse("colour=blue")
    with pytest.raises(ValueError, match="expected float"):
        Policy.parse("place_bonus=lots")
