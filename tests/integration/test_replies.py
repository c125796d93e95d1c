"""What staff read, on the bundled bulletins with the real model: the reply's sentences, the
"not found" decision with its reason, and the precedent count line (answer/, chat/service.py).

These pin the examples of the issue that asked for them; the measured numbers come from
`python -m eval` on eval/questions/replies.jsonl (tests/integration/test_eval_floor.py)."""

import pytest

from chat.service import Assistant
from eval.gold import squeeze

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assistant(real_index):
    return Assistant.open(real_index, watch=False)


def says(reply: str, *needles: str) -> bool:
    return all(squeeze(n) in squeeze(reply) for n in needles)


def test_the_reply_quotes_the_decisions_not_only_the_meeting_line(assistant):
    record = assistant.ask("达州在年鉴质量方面做了什么决定")
    assert record["found"] and record["answer_source"] == "extractive"
    assert says(
        record["answer"],
        "建立保障年鉴质量的工作机制",
        "各县（市、区）至少报送1篇",
        "对标精品年鉴开展质量回头看",
    )
    # one item, quoted in the bulletin's order, and only 达州's
    assert record["answer"].index("建立保障") < record["answer"].index("回头看")
    assert all("达州市" in r["cities"] for r in record["results"] if r["highlights"])


def test_an_english_question_gets_the_figure_not_the_date_line(assistant):
    record = assistant.ask(
        "What was the total page view count of the provincial chronicles website?"
    )
    assert record["found"] and says(record["answer"], "4668.83万次")


def test_place_present_topic_absent_is_not_found_and_says_why(assistant):
    record = assistant.ask("泸州的二轮志书出版情况")
    assert not record["found"] and record["answer"] == ""
    assert record["relevance"]["rule"] == "topic"
    assert "档案中有泸州市的条目，但没有关于" in record["not_found_message"]
    assert record["results"], "the nearest passages are still shown as 可能相关"


def test_another_place_never_answers_for_the_one_asked(assistant):
    record = assistant.ask("宜宾的二轮志书编纂情况")
    assert not record["found"] and "宜宾市" in record["not_found_message"]
    assert not says(record["answer"], "雅安")


@pytest.mark.parametrize("question", ["年鉴质量", "地方志工作会议", "方志馆"])
def test_bare_topics_are_found(assistant, question):
    record = assistant.ask(question)
    assert record["found"] and record["answer"]


@pytest.mark.parametrize(
    "question, rule",
    [
        ("<div><span class='x'>test</span></div>", "no_words"),
        ("回锅肉怎么做", "unknown_words"),
        ("成都市的GDP是多少", "unknown_words"),
        ("眉山市地方志办有什么工作安排", "place"),
        ("2021年内江印发了什么通知", "time"),
    ],
)
def test_unanswerable_questions_are_refused_for_the_right_reason(assistant, question, rule):
    record = assistant.ask(question)
    assert not record["found"] and record["relevance"]["rule"] == rule


def test_precedent_count_holds_only_items_that_did_the_thing(assistant):
    record = assistant.ask("哪些市州印发了品读季实施方案")
    plist = record["precedent"]
    assert plist["summary"] == "6个市州：成都、泸州、德阳、遂宁、资阳、阿坝"
    assert "达州" in plist["related_summary"] and "巴中" in plist["related_summary"]
    first, *quotes = record["answer"].splitlines()
    assert first == plist["summary"] + "。"
    assert len([q for q in quotes if "印发" in q and q.endswith("]")]) == 6
    groups = [r["group"] for r in record["results"]]
    assert groups[-1] == "相关但不计入" and groups.count("相关但不计入") == len(plist["related"])


def test_a_follow_up_on_another_year_drops_the_old_month(assistant):
    record = assistant.ask("2023年的呢", previous="广安2024年3月的推进会对方志馆有什么安排")
    assert record["query"] == "广安2023年的推进会对方志馆有什么安排"
