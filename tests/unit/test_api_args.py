"""The web chat's edges without a server: the /ask API's arguments (each wrong one named in a
Chinese message, chat/api_args.py), the warning for an open network without a login, and an
unknown passage asked for in the full-text view (app.py)."""

import pytest

from chat.api_args import api_options
from chat.service import AskOptions


def test_good_arguments_become_ask_options():
    options = api_options("3", "bm25", "达州", "2022", None, ["市州动态"], ["date"], True)
    assert options == AskOptions(3, "bm25", ("达州",), "2022", "", ("市州动态",), ("date",), True)
    assert api_options() == AskOptions()


@pytest.mark.parametrize(
    "arguments, named",
    [
        ({"k": "abc"}, "参数 k（段落数）应为1到10之间的整数，收到“abc”"),
        ({"k": 0}, "参数 k（段落数）"),
        ({"k": 11}, "参数 k（段落数）"),
        ({"k": True}, "参数 k（段落数）"),
        ({"mode": "fuzzy"}, "参数 mode（检索方式）应为 bm25、dense、hybrid 之一"),
        ({"cities": [1, 2]}, "参数 cities（地点）应为文字列表"),
        ({"date_from": 2022}, "参数 date_from（起始日期）应为文字"),
        ({"precedent": "yes"}, "参数 precedent（查先例）应为 true、false 或不填"),
    ],
)
def test_each_wrong_argument_is_named_in_chinese(arguments, named):
    with pytest.raises(ValueError) as error:
        api_options(**arguments)
    assert named in str(error.value)


def test_listening_beyond_this_machine_without_a_login_is_warned_about():
    from app import open_network_warning

    warning = open_network_warning("0.0.0.0", None)
    assert warning and "BULLETIN_AUTH" in warning and "0.0.0.0" in warning
    assert open_network_warning("127.0.0.1", None) is None
    assert open_network_warning("0.0.0.0", [("staff", "pw")]) is None


def test_an_unknown_passage_in_the_full_text_view_is_a_message_not_a_server_error(caplog):
    import gradio as gr

    from app import page_handlers

    class IndexUpdatedMeanwhile:
        def full_text(self, chunk_id):
            raise KeyError(f"没有编号为 {chunk_id} 的段落（索引可能已更新，请重新提问）")

    html = page_handlers(IndexUpdatedMeanwhile(), gr).full_text_html("x#9<b>")
    assert 'class="fulltext-missing"' in html and "没有编号为 x#9&lt;b&gt; 的段落" in html
    assert [r.getMessage() for r in caplog.records if r.name == "bulletin.app"] == [
        "full text: 没有编号为 x#9<b> 的段落（索引可能已更新，请重新提问）"
    ]
