from ingest.dates import event_dates, latest_year_reported, parse_cn_date


def test_month_day_resolved_with_bulletin_year():
    assert event_dates("10月10日，达州市地方志办召开专题会议", "2022-11-02") == ["2022-10-10"]


def test_january_bulletin_reporting_december_is_last_year():
    assert event_dates("12月28日，召开会议。1月5日，印发方案。", "2024-01-10") == [
        "2023-12-28",
        "2024-01-05",
    ]


def test_ranges_and_lists_of_days():
    assert event_dates("7月10日至15日，分赴江苏", "2023-07-24") == ["2023-07-10", "2023-07-15"]
    assert event_dates("先后于7月17日、20日开工作例会", "2023-07-24") == [
        "2023-07-17",
        "2023-07-20",
    ]


def test_full_dates_trusted_without_bulletin_year_partial_ones_not():
    text = "2023年11月17日，粉丝数突破10万。11月23日粉丝数突破50万。"
    assert event_dates(text, None) == ["2023-11-17"]


def test_invalid_day_skipped():
    assert event_dates("2月30日", "2024-03-13") == []


def test_parse_and_latest_year():
    assert parse_cn_date("综合处2022年11月2日印发") == "2022-11-02"
    assert latest_year_reported("2023年起，分5个批次，到2027年全覆盖；2024年持续组织") == 2024
