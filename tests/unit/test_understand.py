"""Query understanding (answer/understand.py, answer/dates.py): pure, no index, no model.

Anchor for relative words: 2024-03-13, the newest bundled bulletin (as the engine passes it).
"""

from __future__ import annotations

from datetime import date

import pytest

from answer.dates import TODAY, DateRange, find_date_ranges, merge, normalise, span_label
from answer.understand import understand
from ingest.model import ChunkMeta
from ingest.places import load_gazetteer

ANCHOR = date(2024, 3, 13)


@pytest.fixture(scope="module")
def g():
    return load_gazetteer()


def when(text: str, anchor: date = ANCHOR) -> tuple[str | None, str | None] | None:
    found = merge(find_date_ranges(normalise(text), anchor))
    return (found.date_from, found.date_to) if found else None


# ---- dates: absolute, Chinese ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected, label",
    [
        ("达州2022年在年鉴质量上做了什么", ("2022-01-01", "2022-12-31"), "2022年"),
        ("2023年7月省地方志办到外省调研", ("2023-07-01", "2023-07-31"), "2023年7月"),
        ("2023年下半年各地的方志馆建设", ("2023-07-01", "2023-12-31"), "2023年7—12月"),
        ("2020年上半年省地方志工作总结", ("2020-01-01", "2020-06-30"), "2020年1—6月"),
        ("2024年一季度", ("2024-01-01", "2024-03-31"), "2024年1—3月"),
        ("2024年第四季度", ("2024-10-01", "2024-12-31"), "2024年10—12月"),
        ("2023年7月17日开了哪些会", ("2023-07-17", "2023-07-17"), "2023年7月17日"),
        ("2023年7月10日至15日", ("2023-07-10", "2023-07-15"), "2023年7月10日—2023年7月15日"),
        ("2023年7月至12月", ("2023-07-01", "2023-12-31"), "2023年7—12月"),
        ("2023年7—9月", ("2023-07-01", "2023-09-30"), "2023年7—9月"),
        ("2023年12月至2024年3月", ("2023-12-01", "2024-03-31"), "2023年12月—2024年3月"),
        ("2020—2022年", ("2020-01-01", "2022-12-31"), "2020—2022年"),
        ("2020年至2022年", ("2020-01-01", "2022-12-31"), "2020—2022年"),
        ("从2020年到2022年", ("2020-01-01", "2022-12-31"), "2020—2022年"),
        ("2022年以来", ("2022-01-01", None), "2022年以来"),
        ("自2022年以来", ("2022-01-01", None), "2022年以来"),
        ("2023年7月以来", ("2023-07-01", None), "2023年7月以来"),
        ("2022年以前", (None, "2021-12-31"), "2022年以前"),
        ("2022年之后", ("2023-01-01", None), "2023年以来"),
        ("2023年度", ("2023-01-01", "2023-12-31"), "2023年"),
        ("二〇二二年七月", ("2022-07-01", "2022-07-31"), "2022年7月"),
        ("２０２３年７月", ("2023-07-01", "2023-07-31"), "2023年7月"),
        ("2023 年 7 月 的会议", ("2023-07-01", "2023-07-31"), "2023年7月"),
        ("2024-03-13", ("2024-03-13", "2024-03-13"), "2024年3月13日"),
        ("2024-03", ("2024-03-01", "2024-03-31"), "2024年3月"),
        ("达州 2022 会议", ("2022-01-01", "2022-12-31"), "2022年"),
        ("2020年和2022年的年鉴", ("2020-01-01", "2022-12-31"), "2020—2022年"),
    ],
)
def test_chinese_dates(text, expected, label):
    found = merge(find_date_ranges(normalise(text), ANCHOR))
    assert (found.date_from, found.date_to) == expected
    assert found.label == label and not found.relative


# ---- dates: relative (anchor 2024-03-13) --------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("今年各地召开的地方志工作会议", ("2024-01-01", "2024-12-31")),
        ("去年赴外省调研", ("2023-01-01", "2023-12-31")),
        ("上年度年鉴工作", ("2023-01-01", "2023-12-31")),
        ("前年品读季", ("2022-01-01", "2022-12-31")),
        ("大前年", ("2021-01-01", "2021-12-31")),
        ("去年下半年", ("2023-07-01", "2023-12-31")),
        ("今年一季度", ("2024-01-01", "2024-03-31")),
        ("上半年的工作", ("2024-01-01", "2024-06-30")),
        ("今年3月", ("2024-03-01", "2024-03-31")),
        ("去年七月份", ("2023-07-01", "2023-07-31")),
        ("今年以来", ("2024-01-01", None)),
        ("近两年年鉴质量", ("2022-03-13", None)),
        ("最近三年来", ("2021-03-13", None)),
        ("过去一年", ("2023-03-13", None)),
        ("近半年", ("2023-09-13", None)),
        ("近3个月", ("2023-12-13", None)),
        ("上个月县领导批示", ("2024-02-01", "2024-02-29")),
        ("本月", ("2024-03-01", "2024-03-31")),
    ],
)
def test_relative_dates_read_against_the_anchor(text, expected):
    found = merge(find_date_ranges(normalise(text), ANCHOR))
    assert (found.date_from, found.date_to) == expected
    assert found.relative and found.anchor == "2024-03-13"


def test_relative_label_names_the_anchor():
    last_year = find_date_ranges("去年", ANCHOR)[0]
    assert last_year.label == "去年（2023年，以最新一期简报2024年3月13日为准）"
    assert (
        find_date_ranges("近两年", ANCHOR)[0].label
        == "近两年（2022年3月13日以来，以最新一期简报2024年3月13日为准）"
    )
    today = find_date_ranges("今年", date(2026, 5, 1), TODAY)[0]
    assert today.label == "今年（2026年，以今天2026年5月1日为准）" and today.anchor_source == TODAY


def test_relative_words_follow_the_anchor():
    assert when("去年", date(2020, 7, 20)) == ("2019-01-01", "2019-12-31")
    assert when("上个月", date(2024, 1, 10)) == ("2023-12-01", "2023-12-31")  # across the year


# ---- dates: English ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what happened in 2020", ("2020-01-01", "2020-12-31")),
        ("meetings in March 2024", ("2024-03-01", "2024-03-31")),
        ("Mar. 2024", ("2024-03-01", "2024-03-31")),
        ("July of 2023", ("2023-07-01", "2023-07-31")),
        ("March 13, 2024", ("2024-03-13", "2024-03-13")),
        ("13 March 2024", ("2024-03-13", "2024-03-13")),
        ("first half of 2023", ("2023-01-01", "2023-06-30")),
        ("the second half of 2023", ("2023-07-01", "2023-12-31")),
        ("H2 2023", ("2023-07-01", "2023-12-31")),
        ("Q1 2024", ("2024-01-01", "2024-03-31")),
        ("the third quarter of 2023", ("2023-07-01", "2023-09-30")),
        ("between 2020 and 2022", ("2020-01-01", "2022-12-31")),
        ("2020-2022", ("2020-01-01", "2022-12-31")),
        ("since 2022", ("2022-01-01", None)),
        ("2022 onwards", ("2022-01-01", None)),
        ("before 2022", (None, "2021-12-31")),
        ("after 2022", ("2023-01-01", None)),
        ("last year's meetings", ("2023-01-01", "2023-12-31")),
        ("this year", ("2024-01-01", "2024-12-31")),
        ("the year before last", ("2022-01-01", "2022-12-31")),
        ("in the past two years", ("2022-03-13", None)),
        ("the past year", ("2023-03-13", None)),
        ("last 6 months", ("2023-09-13", None)),
        ("last month", ("2024-02-01", "2024-02-29")),
    ],
)
def test_english_dates(text, expected):
    assert when(text) == expected


# ---- things that are not a time ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "提升2022年卷质量",  # a yearbook volume
        "2022卷年鉴",
        "2022年鉴",
        "《成都年鉴（2023）》",
        "Chengdu Yearbook 2023",
        "the 2022 yearbook",
        "到2027年实现全覆盖",  # a target
        "截至2023年底",  # an as-of date
        "by 2027",
        "近年来年鉴质量",  # vague
        "近几年",
        "10月10日达州开了什么会",  # month and day without a year
        "每一季度召开一次",
        "春节年前年后",
        "四川省情网总浏览量4668.83万次",
        "1600余所中小学",
        "2000 people took part",
        "第24期（总第275期）",
        "一年一鉴",
        "三年行动计划",
    ],
)
def test_not_read_as_a_time(text):
    assert find_date_ranges(normalise(text), ANCHOR) == []


def test_span_labels():
    assert span_label("2022-01-01", "2022-12-31") == "2022年"
    assert span_label("2022-10-01", "2023-03-31") == "2022年10月—2023年3月"
    assert span_label(None, None) == "不限"
    assert DateRange("2023-07-01", "2023-12-31", "2023年下半年", 0, 9).contains("2023-07-17")
    assert not DateRange("2023-07-01", "2023-12-31", "x", 0, 1).contains("2024-03-13")


# ---- places ------------------------------------------------------------------------------------


def places(g, text):
    return [
        (p.place.name, p.includes_counties, p.counties_only)
        for p in understand(text, g, ANCHOR).places
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("达州在年鉴质量方面做了什么决定", [("达州市", True, False)]),
        ("达州市地方志工作会议", [("达州市", True, False)]),
        ("阿坝州品读季", [("阿坝藏族羌族自治州", True, False)]),
        ("大竹县 批示", [("大竹县", False, False)]),
        ("达州市大竹县 批示", [("大竹县", False, False)]),  # the city only qualifies its county
        ("凉山州宁南县", [("宁南县", False, False)]),
        ("甜城 乡镇史志阅览室", [("内江市", True, False)]),
        ("蓉城红领巾小史官", [("成都市", True, False)]),
        ("酒城年鉴品读季实施方案", [("泸州市", True, False)]),
        ("隆昌 红色资源", [("隆昌市", False, False)]),
        ("去年达州和广安开了什么会", [("达州市", True, False), ("广安市", True, False)]),
        ("成都 成都市 年鉴", [("成都市", True, False)]),  # named twice, one part
        (
            "达州、广安和达州市的会议",
            [("达州市", True, False), ("广安市", True, False)],
        ),  # in first-mention order
        ("雅安下面的县领导到地方志部门调研", [("雅安市", True, True)]),
        ("广元的县领导批示", [("广元市", True, True)]),
        ("宜宾所辖县 扶贫志", [("宜宾市", True, True)]),
        ("what did Dazhou decide on yearbook quality", [("达州市", True, False)]),
        ("Dazhu county head comments", [("大竹县", False, False)]),
        ("Guang'an meeting", [("广安市", True, False)]),
        ("Ngawa prefecture reading season plan", [("阿坝藏族羌族自治州", True, False)]),
        ("Ya'an's counties", [("雅安市", True, True)]),
    ],
)
def test_places(g, text, expected):
    assert places(g, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "推广安全生产经验",  # 广安 inside 推广|安全
        "提高县级年鉴质量",  # 高县 inside 提高|县级
        "峨眉山月歌",
        "四川省地方志办召开半年工作总结会",  # the province is not a place here
        "How many followers does the provincial Douyin account have?",
        "What is the capital of France?",
        "达州市县两级",  # 市县两级: not "the counties of 达州"
    ],
)
def test_no_place_or_not_its_counties(g, text):
    assert all(not p.counties_only for p in understand(text, g, ANCHOR).places)
    if text != "达州市县两级":
        assert understand(text, g, ANCHOR).places == ()


def test_place_labels_and_matching(g):
    u = understand("达州 大竹县 雅安的县", g, ANCHOR)
    labels = [p.label for p in u.places]
    assert labels == ["达州市 › 大竹县", "雅安市所辖县（市、区）"]  # 达州 qualifies 大竹县
    city = understand("达州2022年", g, ANCHOR).places[0]
    assert city.label == "达州市（含所辖县市区）"
    # a county's item counts for its city
    assert city.matches(ChunkMeta.from_dict({"cities": ["达州市"], "places": ["达州市 › 大竹县"]}))
    assert not city.matches(ChunkMeta.from_dict({"cities": ["广安市"], "places": ["广安市"]}))
    county = understand("大竹县", g, ANCHOR).places[0]
    assert county.matches(
        ChunkMeta.from_dict({"places": ["达州市 › 大竹县"]})
    ) and not county.matches(ChunkMeta.from_dict({"places": ["达州市"], "cities": ["达州市"]}))
    counties = understand("雅安下面的县", g, ANCHOR).places[0]
    assert counties.matches(
        ChunkMeta.from_dict({"places": ["雅安市 › 石棉县"]})
    ) and not counties.matches(ChunkMeta.from_dict({"places": ["雅安市"]}))


# ---- precedent intent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, level",
    [
        ("哪些市州印发了精品年鉴品读季活动实施方案?", "city"),
        ("哪些地方在编扶贫志", None),
        ("哪些县领导对史志工作作出批示", "county"),
        ("哪些县区领导到地方志部门调研指导", "county"),
        ("哪几个市召开了会议", "city"),
        ("2023年下半年各地的方志馆建设", None),
        ("各市（州）年鉴篇目审查", "city"),
        ("全省各地方志馆", None),  # 各地 + 方志馆, not 各 + 地方志馆
        ("其他市州有没有类似做法", "city"),
        ("有没有先例", None),
        ("凉山州各县扶贫志", "county"),
        ("Which cities issued reading season implementation plans?", "city"),
        ("Which counties are compiling poverty alleviation chronicles?", "county"),
        ("where else was this done", None),
    ],
)
def test_precedent_intent_and_level(g, text, level):
    u = understand(text, g, ANCHOR)
    assert u.precedent and u.precedent_level == level
    assert u.precedent_cue and u.precedent_cue not in u.topic


@pytest.mark.parametrize(
    "text",
    [
        "哪些年鉴入选了精品年鉴",  # names of yearbooks inside one item
        "哪个市最早印发方案",  # one place
        "哪些部门参与了品读季",
        "Which provinces did the office visit in July 2023?",
        "达州在年鉴质量方面做了什么决定",
        "各级各部门要加强资金保障",
    ],
)
def test_no_precedent_intent(g, text):
    assert not understand(text, g, ANCHOR).precedent


# ---- the whole understanding -----------------------------------------------------------------


def test_understanding_summary_topic_and_parts(g):
    u = understand("达州2022年在年鉴质量上做了什么", g, ANCHOR)
    assert u.summary == "地点：达州市（含所辖县市区） · 时间：2022年"
    assert u.topic == "年鉴质量上做了什么"
    assert [p.key for p in u.parts()] == ["place:达州市", "date"]
    assert u.dates.date_from == "2022-01-01" and u.anchor == "2024-03-13"
    d = u.to_dict()
    assert d["summary"] == u.summary and d["places"][0]["includes_counties"] is True
    assert d["dates"]["from"] == "2022-01-01" and d["dates"]["label"] == "2022年"


def test_dropping_parts(g):
    u = understand("去年达州和广安在哪些地方开了会", g, ANCHOR)
    assert {p.key for p in u.parts()} == {"place:达州市", "place:广安市", "date", "precedent"}
    assert [p.place.name for p in u.without("place:达州市").places] == ["广安市"]
    assert u.without("place").places == ()
    without_date = u.without("date")
    assert without_date.dates is None and without_date.dropped == ("date",)
    assert not u.without("precedent").precedent
    assert u.without("date", "place").summary == "查先例：列出全部相关条目"


def test_explicit_precedent_switch(g):
    u = understand("年鉴篇目审查", g, ANCHOR)
    assert not u.precedent and u.empty()
    assert u.with_precedent(True).precedent and u.with_precedent(True).precedent_cue == "flag"
    listed = understand("哪些市州印发了方案", g, ANCHOR)
    assert not listed.with_precedent(False).precedent


def test_without_an_anchor_today_is_used_and_said(g):
    u = understand("今年的会议", g)
    assert u.anchor_source == TODAY and u.anchor == date.today().isoformat()
    assert "以今天" in u.summary


def test_nothing_understood(g):
    u = understand("德阳品读季活动筹集了多少经费", g, ANCHOR)
    assert u.places[0].place.name == "德阳市" and u.dates is None and not u.precedent
    plain = understand("史志阅览室五有标准", g, ANCHOR)
    assert plain.empty() and plain.summary == "" and plain.topic == "史志阅览室五有标准"


@pytest.mark.parametrize(
    "text, topic",
    [
        ("遂宁市地方志办公室召开了什么会议", "召开了什么会议"),
        ("雅安市地方志编纂中心开展了什么工作", "开展了什么工作"),
        ("成都市委党史研究室调研了什么", "调研了什么"),
        ("泸州市方志办品读季做了什么", "品读季做了什么"),
        ("达州市地方志工作会议提出了什么", "地方志工作会议提出了什么"),  # a meeting, not an office
    ],
)
def test_the_office_after_a_place_says_who_and_is_not_the_topic(g, text, topic):
    u = understand(text, g, ANCHOR)
    assert [p.place.name for p in u.places] == [text[:3]] and u.topic == topic
