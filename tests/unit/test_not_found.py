"""The "not found" decision (answer/relevance.py) from its signals: each rule alone."""

import pytest

from answer.relevance import MIN_BM25_ENV, NotFoundPolicy, Signals, decide, min_bm25_from_env


def signals(**given) -> Signals:
    """Signals of a question that would be found, with `given` changed."""
    base = dict(
        missing_places=(),
        places=(),
        english=False,
        known_terms=("年鉴", "质量"),
        unknown_terms=(),
        coverage=1.0,
        fitting=5,
        dated=(),
        span=None,
        span_years=None,
        topic="年鉴质量",
        bm25_top_score=5.0,
        dense_top_cosine=0.85,
    )
    return Signals(**{**base, **given})


def test_a_place_without_items_is_not_found_even_when_the_words_match():
    verdict = decide(signals(missing_places=("眉山市",)))
    assert not verdict.found and verdict.rule == "place" and "眉山市" in verdict.reason
    assert decide(signals(missing_places=("眉山市",), places=("达州市",))).found


def test_a_bare_topic_is_found_whatever_its_bm25_score():
    assert decide(signals(bm25_top_score=0.9)).found


def test_words_the_archive_never_uses_are_not_found():
    verdict = decide(signals(known_terms=(), unknown_terms=("回锅肉",), coverage=None))
    assert not verdict.found and verdict.rule == "unknown_words" and "回锅肉" in verdict.reason


def test_no_words_at_all_falls_back_to_the_bm25_floor():
    junk = signals(known_terms=(), coverage=None, english=True, bm25_top_score=0.0)
    assert decide(junk).rule == "no_words"
    assert decide(junk, NotFoundPolicy(min_bm25=-1)).found


def test_place_present_topic_absent_says_both():
    verdict = decide(signals(places=("泸州市",), coverage=0.1, topic="二轮志书出版"))
    assert not verdict.found and verdict.rule == "topic"
    assert verdict.reason == "档案中有泸州市的条目，但没有关于“二轮志书出版”的内容"


def test_english_coverage_is_judged_only_with_two_expanded_terms():
    one_term = dict(english=True, known_terms=("志书",), coverage=0.0)
    assert decide(signals(places=("苍溪县",), **one_term)).found
    assert not decide(signals(english=True, coverage=0.0)).found


def test_one_translated_word_and_no_place_is_too_little_to_answer_english():
    verdict = decide(signals(english=True, known_terms=("获奖",), coverage=1.0))
    assert not verdict.found and verdict.rule == "no_words"


def test_a_topic_dated_only_in_other_years_is_not_found():
    other_year = dict(span="2021年", span_years=(2021, 2021))
    verdict = decide(signals(dated=((1.0, "out", 2022), (0.9, "out", 2024)), **other_year))
    assert not verdict.found and verdict.rule == "time" and "2021年" in verdict.reason
    assert decide(signals(dated=((1.0, "out", 2022), (0.9, "in", 2021)), **other_year)).found
    assert decide(signals(dated=((1.0, "unknown", None),), **other_year)).found


def test_threshold_from_environment(monkeypatch):
    monkeypatch.setenv(MIN_BM25_ENV, "3.25")
    assert min_bm25_from_env() == 3.25
    monkeypatch.setenv(MIN_BM25_ENV, "high")
    with pytest.raises(ValueError, match=MIN_BM25_ENV):
        min_bm25_from_env()


def test_an_undated_passage_counts_by_its_estimated_year():
    asked_2021 = dict(span="2021年", span_years=(2021, 2021))
    # the bulletin is estimated 2024 and the passage names no 2021: another year
    assert decide(signals(dated=((1.0, "unknown", 2024),), **asked_2021)).rule == "time"
    # no estimate at all: unknown is never outside
    assert decide(signals(dated=((1.0, "unknown", None),), **asked_2021)).found


def test_the_quoted_topic_keeps_the_ma_of_shenme():
    from answer.relevance import _topic_label

    assert _topic_label("地方志办公室做了什么") == "地方志办公室做了什么"
    assert _topic_label("的史志阅览室建设情况了么？") == "史志阅览室建设情况"
