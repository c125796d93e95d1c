"""House citation format: every known field in place, unknown fields left out."""

from answer.citation import (
    bulletin_date_label,
    chinese_date,
    date_label,
    event_date_label,
    house_citation,
    unknown_date_label,
)

COMBINED = {
    "date": "2022-11-02",
    "section": "市州动态",
    "title": "成都、泸州等地积极推进精品年鉴品读季活动走深走实",
    "source_org": "综合成都市、泸州市、德阳市、遂宁市、资阳市、阿坝州信息",
    "issue_no": None,
}


def test_house_format_for_a_combined_item():
    assert house_citation(COMBINED) == (
        "《四川省地方志工作简报》2022年11月2日 【市州动态】 “成都、"
        "泸州等地积极推进精品年鉴品读季活动走深走实”"
        "（综合成都市、泸州市、德阳市、遂宁市、资阳市、阿坝州信息）"
    )


def test_unknown_date_is_left_out_not_estimated():
    cited = house_citation({**COMBINED, "date": None, "date_estimate": "2024"})
    assert cited.startswith("《四川省地方志工作简报》 【市州动态】") and "2024" not in cited


def test_issue_number_and_pages_when_known():
    cited = house_citation({**COMBINED, "issue_no": "第5期", "pages": [2, 3]})
    assert cited.startswith("《四川省地方志工作简报》第5期（2022年11月2日）") and cited.endswith(
        "信息），第2—3页"
    )
    assert house_citation({**COMBINED, "pages": [4]}).endswith("，第4页")


def test_missing_title_and_source():
    assert house_citation({"date": "2020-07-20"}) == "《四川省地方志工作简报》2020年7月20日"


def test_chinese_date():
    assert chinese_date("2024-03-13") == "2024年3月13日"
    assert chinese_date("2024-3") is None and chinese_date(None) is None


def test_date_label_for_reading():
    assert date_label("2024-03-13", "2023") == "2024年3月13日"
    assert date_label(None, "2024") == unknown_date_label("2024") == "日期不详（约2024年）"
    assert date_label(None) == unknown_date_label(None) == "日期不详"


def test_labelled_dates_say_whose_date_it_is():
    assert bulletin_date_label("2022-11-02", "2021") == "简报日期：2022年11月2日"
    # the unknown-date label's own wording, 约…年, with the label in front
    assert bulletin_date_label(None, "2024") == "简报日期不详（约2024年）"
    assert bulletin_date_label(None) == "简报日期不详"
    assert event_date_label("2022-10-10") == "事件日期：2022年10月10日"
    assert event_date_label(None) is None
