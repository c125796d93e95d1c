"""The chat service on a real index: odd input, filters, and a watcher that outlives a bad index."""

import json
import shutil
import time

import pytest

from chat.service import AskOptions, Assistant

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assistant(real_index):
    return Assistant.open(real_index, watch=False)


def test_control_characters_pasted_into_a_question_are_ignored(assistant, tmp_path):
    record = assistant.ask("达州\x01在年鉴质量方面\x0b做了什么决定")
    assert record["question"] == "达州 在年鉴质量方面 做了什么决定" and record["found"]
    files = assistant.export_files(record, tmp_path)
    assert set(files) == {"md", "csv", "docx"} and all(
        path.stat().st_size for path in files.values()
    )


def test_reversed_date_range_is_a_clear_error(assistant):
    with pytest.raises(ValueError, match="起始日期（2024）晚于截止日期（2022）"):
        assistant.ask("年鉴", AskOptions(date_from="2024", date_to="2022"))


def test_a_list_asked_for_where_none_qualifies_is_answered_plainly(assistant):
    # 查先例 ticked on a question no report "did": the answer stays, with a notice
    record = assistant.ask("达州在年鉴质量方面做了什么决定？", AskOptions(precedent=True))
    assert record["found"] and record["precedent"] is None and record["results"]
    assert "没有可按市州列出的条目" in " ".join(record["notices"])


def test_filters_that_leave_nothing_are_named_as_the_reason(assistant):
    record = assistant.ask("德阳品读季活动筹集了多少经费？", AskOptions(date_from="2025"))
    assert not record["found"] and not record["results"]
    message = record["not_found_message"]
    assert "所选筛选条件下没有段落：时间：2025—最新" in message
    assert "以下段落可能相关" not in message  # there are none to show


def test_a_question_naming_the_city_office_quotes_the_citys_own_report(assistant):
    # card 1 is 成都's own report; a county's report (新都区) holds more of the words
    record = assistant.ask("成都市地方志办公室在新媒体宣传方面做了哪些工作？")
    assert "成都方志" in record["answer"] and "吴彬" not in record["answer"]


def test_naming_a_places_office_does_not_make_a_question_not_found(assistant):
    record = assistant.ask("遂宁市地方志办公室召开了什么会议")
    assert record["found"] and "遂宁市召开地方志高质量发展会议" in record["answer"]


def test_watcher_survives_a_damaged_manifest_and_loads_the_next_good_index(real_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(real_index, index_dir)
    assistant = Assistant.open(index_dir, interval=0.05)
    manifest_path = index_dir / "manifest.json"
    good = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text("{ not json", encoding="utf-8")
    time.sleep(0.5)
    assert assistant.watcher._thread.is_alive()
    assert assistant.ask("达州年鉴质量")["found"]  # the loaded index keeps answering
    manifest_path.write_text(
        json.dumps({**good, "created_at": "2099-01-01T00:00:00+00:00"}), encoding="utf-8"
    )
    deadline = time.monotonic() + 30
    while (
        assistant.engine.manifest["created_at"] != "2099-01-01T00:00:00+00:00"
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert assistant.engine.manifest["created_at"] == "2099-01-01T00:00:00+00:00"
    assistant.watcher.stop()
