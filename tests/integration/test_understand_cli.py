"""`python -m index.search` with understanding, precedent mode and exports: real model, real
processes."""

import json

import pytest
from docx import Document

from conftest import CONTRACT_KEYS, cli

pytestmark = pytest.mark.slow
PLAN_CITIES = {"成都", "泸州", "德阳", "遂宁", "资阳", "阿坝"}


def search(index_dir, *args):
    return cli("-m", "index.search", "--index", str(index_dir), *args)


def search_json(index_dir, *args):
    return json.loads(search(index_dir, "--json", *args).stdout)


def test_json_keeps_the_contract_and_adds_what_was_understood(real_index):
    payload = search_json(real_index, "-k", "3", "达州2022年在年鉴质量上做了什么")
    assert payload["query"] == "达州2022年在年鉴质量上做了什么" and "relevance" in payload
    assert all(CONTRACT_KEYS <= set(r) for r in payload["results"])
    understood = payload["understood"]
    assert understood["summary"] == "地点：达州市（含所辖县市区） · 时间：2022年"
    assert [p["key"] for p in understood["parts"]] == ["place:达州市", "date"]
    assert understood["dates"]["from"] == "2022-01-01" and understood["anchor"] == "2024-03-13"
    top = payload["results"][0]
    assert "达州市" in top["cities"] and top["date"] == "2022-11-02"
    assert top["text"].startswith("10月10日，达州市地方志办召开专题会议")


def test_text_output_shows_the_understood_line(real_index):
    out = search(real_index, "-k", "1", "去年内江史志阅览室建设").stdout
    headline, understood = out.splitlines()[:2]
    assert headline == "“去年内江史志阅览室建设” 的前 1 条结果："
    assert understood.startswith(
        "理解为：地点：内江市（含所辖县市区） · 时间：去年（2023年，"
        "以最新一期简报2024年3月13日为准）"
    )
    assert "内江全覆盖建设乡镇（街道）史志阅览室" in out


def test_drop_and_no_understand(real_index):
    dropped = search_json(
        real_index, "-k", "2", "--drop", "date", "达州2022年在年鉴质量上做了什么"
    )["understood"]
    assert (
        dropped["dates"] is None
        and dropped["dropped"] == ["date"]
        and dropped["places"][0]["name"] == "达州市"
    )
    assert (
        search_json(real_index, "-k", "2", "--no-understand", "达州2022年 年鉴")["understood"]
        is None
    )


def test_precedent_wording_gives_a_grouped_list(real_index):
    payload = search_json(real_index, "哪些市州印发了品读季实施方案")
    plist = payload["precedent"]
    names = {g["name"] for g in plist["groups"]}
    assert PLAN_CITIES <= names
    assert plist["summary"].startswith(
        f"{sum(1 for g in plist['groups'] if g['city'])}个市州：成都、泸州、德阳、遂宁"
    )
    entries = [e for g in plist["groups"] for e in g["entries"]]
    assert len(entries) == plist["count"] and all(
        e["citation"].startswith("《四川省地方志工作简报》") for e in entries
    )
    assert payload["results"]  # the ranked passages stay in the contract


def test_precedent_flag_text_and_docx_export(real_index, tmp_path):
    target = tmp_path / "先例.docx"
    result = search(real_index, "--precedent", "--export", str(target), "年鉴篇目审查")
    headline, understood = result.stdout.splitlines()[:2]
    assert headline.startswith("先例：") and understood.startswith(
        "理解为：查先例：列出全部相关条目"
    )
    assert "出处：《四川省地方志工作简报》" in result.stdout
    assert str(target) in result.stderr
    paragraphs = [p.text for p in Document(str(target)).paragraphs]
    assert paragraphs[0] == "先例：年鉴篇目审查"
    assert any("雅安市完成县（区）地方综合年鉴2020年卷编纂篇目审查工作" in p for p in paragraphs)


def test_csv_export_of_results(real_index, tmp_path):
    target = tmp_path / "结果.csv"
    search(real_index, "-k", "2", "--no-precedent", "--export", str(target), "大竹县 批示")
    data = target.read_bytes()
    assert data.startswith(
        b"\xef\xbb\xbf"
    ) and "大竹县地方志工作获县政府主要领导肯定性批示" in data.decode("utf-8-sig")


def test_bad_export_suffix_and_policy_are_one_line_errors(real_index, tmp_path):
    result = cli(
        "-m",
        "index.search",
        "--index",
        str(real_index),
        "--export",
        str(tmp_path / "x.pdf"),
        "年鉴",
        check=False,
    )
    assert result.returncode == 2 and "x.pdf" in result.stderr and ".docx" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.pdf").exists()
    bad = cli(
        "-m",
        "index.search",
        "--index",
        str(real_index),
        "--policy",
        "place=maybe",
        "年鉴",
        check=False,
    )
    assert bad.returncode == 2 and "place='maybe'" in bad.stderr and "Traceback" not in bad.stderr
