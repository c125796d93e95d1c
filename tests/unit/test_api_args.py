"""The /ask API's arguments: each wrong one is named in a Chinese message (chat/api_args.py)."""

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
