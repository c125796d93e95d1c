"""Bulletin structure pinned for each of the five real bulletins."""

import pytest

from conftest import ALL, B2020, B2022, B2023, B2024, BUNDATED

EXPECTED = {
    B2020: {
        "date": "2020-07-20",
        "date_source": "header",
        "titles": [
            "四川省地方志办召开2020年半年工作总结会",
            "省地方志办开展地方综合年鉴2020卷篇目审查",
            "宋开慧对雅安市地方志工作提出新要求",
            "雅安市完成县（区）地方综合年鉴2020年卷编纂篇目审查工作",
            "大竹县地方志工作获县政府主要领导肯定性批示",
        ],
        "sources": [
            "省地方志办",
            "省地方志办",
            "雅安市地方志编纂中心",
            "雅安市地方志编纂中心",
            "大竹县地方志办",
        ],
        "sections": ["特别关注", "特别关注", "市州动态", "市州动态", "市州动态"],
    },
    B2022: {
        "date": "2022-11-02",
        "date_source": "footer",
        "titles": ["成都、泸州等地积极推进精品年鉴品读季活动走深走实"],
        "sources": ["综合成都市、泸州市、德阳市、遂宁市、达州市、巴中市、资阳市、阿坝州信息"],
        "sections": ["市州动态"],
    },
    B2023: {
        "date": "2023-07-24",
        "date_source": "header",
        "titles": [
            "对标学习“走出去” 观摩交流“取真经”",
            "内江全覆盖建设乡镇（街道）史志阅览室",
            "吴彬调研指导成都市新都区史志工作",
            "范东平调研指导石棉县地方志工作",
            "筠连县、南部县大力推进扶贫志编纂工作",
        ],
        "sources": [
            "综合省地方志办、乐山市、广安市、雅安市信息",
            "内江市委党史地方志研究室",
            "成都市新都区地方志办",
            "石棉县地方志编纂中心",
            "综合筠连县、南部县信息",
        ],
        "sections": ["特别关注", "市州动态", "市州动态", "市州动态", "市州动态"],
    },
    B2024: {
        "date": "2024-03-13",
        "date_source": "header",
        "titles": [
            "广元市市委书记何树平对史志工作作出批示",
            "乐山市委市政府通报表扬争创“四川精品年鉴”成绩突出集体和个人",
            "德阳市、绵阳市召开党史地方志工作会议",
            "遂宁市、广安市、达州市召开地方志工作会",
            "凉山州政协副主席、宁南县委书记王显晖调研指导史志工作",
            "苍溪县、内江隆昌市、天全县领导对史志工作作出批示",
        ],
        "sources": [
            "广元市地方志编纂中心",
            "中共乐山市委党史和地方志研究室",
            "综合德阳市、绵阳市地方志部门信息",
            "综合遂宁市、广安市、达州市地方志部门信息",
            "宁南县党史研究与地方志编纂中心",
            "综合苍溪县、内江隆昌市、天全县地方志部门信息",
        ],
        "sections": ["市州动态"] * 6,
    },
    BUNDATED: {
        "date": None,
        "date_source": None,
        "titles": ["回顾梳理明方向 凝心聚力再出发", "“成都方志”微信公众号粉丝突破50万"],
        "sources": ["省地方志办", "成都市地方志编纂委员会办公室"],
        "sections": ["特别关注", "市州动态"],
    },
}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_bulletin_structure(parsed, path):
    bulletin = parsed[path].bulletin
    expected = EXPECTED[path]
    assert bulletin.date == expected["date"]
    assert bulletin.date_source == expected["date_source"]
    assert len(bulletin.items) == len(expected["titles"])
    assert [i.title for i in bulletin.items] == expected["titles"]
    assert [i.source_org for i in bulletin.items] == expected["sources"]
    assert [i.section for i in bulletin.items] == expected["sections"]


def test_issuer_from_header_or_footer(parsed):
    assert parsed[B2020].bulletin.issuer == "四川省地方志工作办公室"
    # only the footer survives
    assert parsed[B2022].bulletin.issuer == "四川省地方志工作办公室综合处"
    assert parsed[BUNDATED].bulletin.issuer is None


def test_undated_bulletin_has_a_labelled_estimate_not_a_date(parsed):
    bulletin = parsed[BUNDATED].bulletin
    assert bulletin.date is None
    assert bulletin.date_estimate == "2024"
    assert "估计" in bulletin.date_estimate_basis


def test_issue_number_only_from_the_header(parsed):
    # 2020-07-20 cites "第24期" of another bulletin in its body: not its own number.
    assert all(parsed[p].bulletin.issue_no is None for p in ALL)


def test_subtitle_and_subheadings(parsed):
    item = parsed[BUNDATED].bulletin.items[0]
    assert item.subtitle == "省地方志办向各市（州）地方志部门反馈6年来年鉴质量建设总体情况"
    assert "多措并举提升质量，年鉴质量建设成效显著" in parsed[BUNDATED].bulletin.text_clean


def test_distribution_block_is_metadata_not_content(parsed):
    for path in ALL:
        bulletin = parsed[path].bulletin
        for item in bulletin.items:
            body = bulletin.text_clean[item.body_span.start : item.body_span.end]
            assert "共印" not in body and "信息公开选项" not in body and "印发\n" not in body
    footer = parsed[B2020].bulletin.metadata["footer"]
    assert footer["copies"] == 25
    assert footer["distribution"]["报"].startswith("省委，省人大常委会")
    assert footer["printed_date"] == "2020-07-20"


def test_source_line_not_in_body(parsed):
    bulletin = parsed[B2020].bulletin
    item = bulletin.items[0]
    assert bulletin.text_clean[item.body_span.start : item.body_span.end].endswith(
        "推动地方志事业发展。"
    )
    assert bulletin.text_clean[item.source_span.start : item.source_span.end] == "（省地方志办）"


def test_combined_item_split_into_reports_by_place(parsed):
    item = parsed[B2022].bulletin.items[0]
    assert item.combined
    assert [r.places[0] for r in item.reports] == [
        "成都市",
        "泸州市",
        "德阳市",
        "遂宁市",
        "达州市",
        "巴中市",
        "资阳市",
        "阿坝藏族羌族自治州",
    ]
    dazhou = item.reports[4]
    assert dazhou.event_dates == ("2022-10-10",)
    text = parsed[B2022].bulletin.text_clean[dazhou.span.start : dazhou.span.end]
    assert text.startswith("10月10日，达州市地方志办召开专题会议") and text.endswith(
        "努力提升2022年卷年鉴编纂质量。"
    )


def test_places_normalised_to_city_and_county(parsed):
    items = parsed[B2020].bulletin.items
    assert items[4].places == ("达州市 › 大竹县",) and items[4].cities == ("达州市",)
    assert items[2].places == ("雅安市",)
    b2024 = parsed[B2024].bulletin.items
    assert "凉山彝族自治州 › 宁南县" in b2024[4].places
    assert [r.places for r in b2024[5].reports] == [
        ("广元市 › 苍溪县",),
        ("内江市 › 隆昌市",),
        ("雅安市 › 天全县",),
    ]
    assert "成都市 › 新都区" in parsed[B2023].bulletin.items[2].places
    assert parsed[B2023].bulletin.items[3].places == ("雅安市 › 石棉县",)
    assert parsed[B2022].bulletin.items[0].reports[7].cities == ("阿坝藏族羌族自治州",)


def test_event_dates_use_the_bulletin_year(parsed):
    items = parsed[B2020].bulletin.items
    assert items[4].event_dates == ("2020-06-05", "2020-06-16", "2020-06-23", "2020-06-27")
    # no year to resolve "11月23日" with: only the fully written date is kept
    assert parsed[BUNDATED].bulletin.items[1].event_dates == ("2023-11-17",)
