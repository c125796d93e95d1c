"""The running web chat through its API, as another program would use it (gradio_client)."""

import json

import pytest
from gradio_client import Client

from conftest import CONTRACT_KEYS
from live_app import running_app

pytestmark = pytest.mark.slow
DAZHOU_LEAD = "10月10日，达州市地方志办召开专题会议"


@pytest.fixture(scope="module")
def app_url(real_index, tmp_path_factory):
    with running_app(real_index, tmp_path_factory.mktemp("app")) as url:
        yield url


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False, analytics_enabled=False)


def ask(client, question, **kwargs):
    return client.predict(question=question, api_name="/ask", **kwargs)


def test_dazhou_question_cites_the_dazhou_item_first(client):
    answer = ask(client, "达州在年鉴质量方面做了什么决定？")
    assert answer["found"] is True
    first = answer["results"][0]
    assert (
        first["date"] == "2022-11-02"
        and first["places"] == ["达州市"]
        and first["text"].startswith(DAZHOU_LEAD)
    )
    assert DAZHOU_LEAD in answer["answer"] and "[1]" in answer["answer"]
    assert CONTRACT_KEYS <= set(first)
    assert first["citation"].startswith("《四川省地方志工作简报》2022年11月2日 【市州动态】")
    start, end = first["highlights"][0]
    assert first["text"][start:end].startswith(DAZHOU_LEAD)


def test_every_answer_sentence_is_in_a_cited_passage(client):
    answer = ask(client, "德阳品读季活动筹集了多少经费")
    assert "5万元" in answer["answer"]
    for result in answer["results"]:
        for start, end in result["highlights"]:
            assert result["text"][start:end] + f"[{result['rank']}]" in answer["answer"]


def test_question_without_answer_says_not_found(client):
    answer = ask(client, "眉山市2023年年鉴获得了什么奖")
    assert answer["found"] is False and answer["answer"] == ""
    assert answer["not_found_message"].startswith(
        "在已收录的5期简报（2020年7月—2024年3月）中未找到"
    )
    assert answer["results"], "nearest passages are still shown as 可能相关"
    assert all(r["highlights"] == [] for r in answer["results"])


def test_follow_up_reuses_the_topic(client):
    answer = ask(client, "那巴中呢？", previous="达州在年鉴质量方面做了什么决定")
    assert answer["query"] == "巴中市在年鉴质量方面做了什么决定"
    assert answer["results"][0]["text"].startswith("10月10日，巴中市委史志办召开专题会议")


def test_filters_and_passage_count(client):
    answer = ask(
        client, "地方志工作会议", k=3, cities=["达州"], date_from="2024", date_to="2024-03"
    )
    assert len(answer["results"]) <= 3 and answer["results"]
    assert all("达州市" in r["cities"] and r["date"].startswith("2024") for r in answer["results"])


def test_bad_filter_is_a_clear_error(client):
    with pytest.raises(Exception, match="不认识的地名"):
        ask(client, "年鉴", cities=["Atlantis"])


@pytest.mark.parametrize(
    "question, arguments, message",
    [
        ("年鉴", {"k": "abc"}, "参数 k（段落数）应为1到10之间的整数"),
        ("年鉴", {"mode": "fuzzy"}, "参数 mode（检索方式）"),
        ("   ", {}, "请输入问题"),
    ],
)
def test_wrong_arguments_get_a_chinese_message(client, question, arguments, message):
    with pytest.raises(Exception, match=message):
        ask(client, question, **arguments)


def test_long_question_is_cut_with_a_notice(client):
    answer = ask(client, "达州年鉴质量" * 100)
    assert len(answer["question"]) == 200 and any("问题过长" in n for n in answer["notices"])


def test_answer_is_json_serialisable_as_documented(client):
    answer = ask(client, "what did Dazhou decide on yearbook quality")
    assert json.loads(json.dumps(answer, ensure_ascii=False))["results"][0]["date"] == "2022-11-02"


def test_login_is_required_when_configured(real_index, tmp_path):
    with running_app(real_index, tmp_path, BULLETIN_AUTH="staff:s3cret") as url:
        with pytest.raises(Exception, match="(?i)login|auth|401|credentials"):
            Client(url, verbose=False, analytics_enabled=False)
        logged_in = Client(url, auth=("staff", "s3cret"), verbose=False, analytics_enabled=False)
        assert logged_in.predict(question="达州年鉴质量", api_name="/ask")["found"] is True


def test_precedent_list_through_the_api(client):
    answer = ask(client, "哪些市州印发了品读季实施方案")
    # 达州 only 作出部署 and 巴中 plans to 研究制定 a 方案: related, not counted
    assert answer["answer_source"] == "precedent"
    assert answer["precedent"]["summary"] == "6个市州：成都、泸州、德阳、遂宁、资阳、阿坝"
    related = answer["precedent"]["related_summary"]
    assert "达州" in related and "巴中" in related
    assert [r["group"] for r in answer["results"]][:2] == ["成都市", "泸州市"]
    assert all(r["citation"].startswith("《四川省地方志工作简报》") for r in answer["results"])
    lines = answer["answer"].splitlines()
    assert lines[0] == answer["precedent"]["summary"] + "。" and lines[1].endswith("[1]")


def test_understood_parts_can_be_dropped(client):
    both = ask(client, "达州2022年在年鉴质量上做了什么")
    assert [p["key"] for p in both["understood"]["parts"]] == ["place:达州市", "date"]
    no_date = ask(client, "达州2022年在年鉴质量上做了什么", drop=["date"])
    assert [p["key"] for p in no_date["understood"]["parts"]] == ["place:达州市"]
    assert no_date["results"][0]["text"].startswith(DAZHOU_LEAD)
