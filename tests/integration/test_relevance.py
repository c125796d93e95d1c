"""The "not found" rule: pure decisions, then the search CLI on the real index."""

import json

import pytest

from answer.relevance import DEFAULT_MIN_BM25, MIN_BM25_ENV, judge, min_bm25_from_env
from conftest import cli
from ingest.places import load_gazetteer

GAZ = load_gazetteer()
DAZHOU, MEISHAN, DAZHU = GAZ.resolve("达州"), GAZ.resolve("眉山"), GAZ.resolve("大竹县")


def test_place_not_in_index_is_not_found_even_with_a_high_score():
    verdict = judge({"bm25_top_score": 9.0}, [MEISHAN], {"达州市"})
    assert not verdict.found and verdict.missing_places == ("眉山市",)
    assert "眉山市" in verdict.reason


def test_county_counts_through_its_city_and_one_known_place_is_enough():
    assert judge({"bm25_top_score": 5.0}, [DAZHU], {"达州市"}).found
    assert judge({"bm25_top_score": 5.0}, [DAZHOU, MEISHAN], {"达州市"}).found


def test_low_lexical_overlap_is_not_found():
    verdict = judge({"bm25_top_score": DEFAULT_MIN_BM25 - 0.1}, [], {"达州市"})
    assert not verdict.found and verdict.reason
    assert judge({"bm25_top_score": DEFAULT_MIN_BM25}, [], set()).found


def test_threshold_from_environment(monkeypatch):
    monkeypatch.setenv(MIN_BM25_ENV, "3.25")
    assert min_bm25_from_env() == 3.25
    monkeypatch.setenv(MIN_BM25_ENV, "high")
    with pytest.raises(ValueError, match=MIN_BM25_ENV):
        min_bm25_from_env()


@pytest.mark.slow
@pytest.mark.parametrize(
    "query, found",
    [
        ("达州在年鉴质量方面做了什么决定", True),
        ("what did Dazhou decide on yearbook quality", True),
        ("眉山市2023年年鉴获得了什么奖", False),
        ("如何办理护照", False),
    ],
)
def test_search_json_carries_the_verdict(real_index, query, found):
    payload = json.loads(
        cli("-m", "index.search", "--json", "-k", "2", "--index", str(real_index), query).stdout
    )
    assert payload["relevance"]["found"] is found
    assert len(payload["results"]) == 2  # near misses are still listed


@pytest.mark.slow
def test_text_output_says_not_found_and_lists_near_misses(real_index):
    out = cli(
        "-m",
        "index.search",
        "-k",
        "1",
        "--index",
        str(real_index),
        "--min-bm25",
        "99",
        "达州 年鉴质量",
    ).stdout
    assert out.startswith("未找到“达州 年鉴质量”的答案") and "可能相关" in out and "[1]" in out
