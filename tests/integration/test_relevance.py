"""The "not found" decision through the search CLI on the real index (the rules alone:
tests/unit/test_not_found.py)."""

import json

import pytest

from conftest import cli


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
        "眉山市 年鉴质量",
    ).stdout
    assert out.startswith("未找到“眉山市 年鉴质量”的答案") and "可能相关" in out and "[1]" in out
