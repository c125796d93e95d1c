"""Repairing PDF-extraction damage: wrapped lines, page breaks, stray spaces, repeats."""

from conftest import ALL, B2020, B2022, B2024
from ingest.cleaning import (
    clean_paragraphs,
    clean_text,
    display_width,
    normalise_spaces,
    physical_lines,
)


def test_spaces_around_digits_removed_but_phrase_spaces_kept():
    assert normalise_spaces("10 月 21 日，结合 2022卷年鉴") == "10月21日，结合2022卷年鉴"
    assert normalise_spaces("第 24期（总第 275期）") == "第24期（总第275期）"
    assert normalise_spaces("回顾梳理明方向 凝心聚力再出发") == "回顾梳理明方向 凝心聚力再出发"
    assert (
        normalise_spaces("《大竹县紧扣“三个动作” 主动服务大局》")
        == "《大竹县紧扣“三个动作” 主动服务大局》"
    )
    assert normalise_spaces("地方志事业发展。 （省地方志办）") == "地方志事业发展。（省地方志办）"
    assert (
        normalise_spaces("四川省地方志工作办公室 2020年 7月 20日")
        == "四川省地方志工作办公室 2020年7月20日"
    )


def test_wrapped_lines_rejoined_and_blank_lines_dropped():
    text = clean_text(B2022.read_text(encoding="utf-8"))
    assert "结合2022卷年鉴编纂工作" in text  # "2022卷年\n\n鉴" rejoined
    assert "10月21日，成都市地方志办印发《成都市“精品年鉴品读季”活动实施方案》。" in text
    assert "\n\n" not in text
    assert "把品读成果运用到2023卷年鉴编纂大纲谋划中" in text  # across a page break


def test_real_paragraph_breaks_kept():
    paragraphs = [p.text for p in clean_paragraphs(B2022.read_text(encoding="utf-8"))]
    starts = [p[:9] for p in paragraphs]
    for lead in (
        "10月21日，成都",
        "10月12日，泸州",
        "10月13日，德阳",
        "10月11日，遂宁",
        "10月10日，达州",
        "10月10日，巴中",
        "10月20日，资阳",
        "10月11日，阿坝",
    ):
        assert lead in starts
    assert (
        "（综合成都市、泸州市、德阳市、遂宁市、达州市、巴中市、资阳市、阿坝州信息）" in paragraphs
    )


def test_duplicate_url_line_dropped():
    raw = B2024.read_text(encoding="utf-8")
    assert raw.count("http://mp.weixin.qq.com") == 2
    assert clean_text(raw).count("http://mp.weixin.qq.com") == 1
    assert physical_lines("甲\n\n甲\n乙") == ["甲", "乙"]


def test_cleaning_loses_no_characters_except_whitespace_and_repeats():
    for path in ALL:
        raw = path.read_text(encoding="utf-8")
        squeezed = "".join(raw.split())
        cleaned = "".join(clean_text(raw).split())
        url = "http://mp.weixin.qq.com/s?__biz=MzAxOTEwNzM5Ng==&mid=2650753115&idx=1&sn=04ca1de8f7fe4ea9d5e5f47b2d027b63&chksm=83c7f370b4b07a6692daecd2ccb3dd7e20b16cc587515e037c4591900be1d43deb8ed97e3638&scene=21"
        assert cleaned == squeezed.replace(url + url, url), path.name


def test_unwrapped_text_keeps_its_lines():
    raw = "第一段很长的正文，没有被折行。\n第二段也是完整的一行。\n第三段。"
    assert [p.text for p in clean_paragraphs(raw)] == [
        "第一段很长的正文，没有被折行。",
        "第二段也是完整的一行。",
        "第三段。",
    ]


def test_display_width_counts_chinese_double():
    assert display_width("达州") == 4
    assert display_width("10 月") == 5
    assert display_width("“精品”") == 8


def test_header_issue_date_line():
    assert clean_text(B2020.read_text(encoding="utf-8")).startswith(
        "四川省地方志工作办公室 2020年7月20日\n【特别关注】"
    )
