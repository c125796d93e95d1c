"""The /ask API's arguments checked one by one, each problem a Chinese message naming the
argument, so a script gets "参数 k …应为1到10之间的整数" instead of a Python error."""

from __future__ import annotations

from typing import Any

from chat.service import MAX_PASSAGES, AskOptions
from index.engine import MODES


def api_options(
    k: Any = 5,
    mode: Any = "hybrid",
    cities: Any = None,
    date_from: Any = "",
    date_to: Any = "",
    sections: Any = None,
    drop: Any = None,
    precedent: Any = None,
) -> AskOptions:
    """AskOptions from the API's raw arguments; ValueError with a Chinese message otherwise."""
    return AskOptions(
        _passages(k),
        _choice("mode（检索方式）", mode, MODES),
        _texts("cities（地点）", cities),
        _text("date_from（起始日期）", date_from),
        _text("date_to（截止日期）", date_to),
        _texts("sections（栏目）", sections),
        _texts("drop（去掉的理解）", drop),
        _switch("precedent（查先例）", precedent),
    )


def _passages(k: Any) -> int:
    text = str(k).strip()
    if isinstance(k, bool) or not text.lstrip("-").isdigit() or not 1 <= int(text) <= MAX_PASSAGES:
        raise ValueError(f"参数 k（段落数）应为1到{MAX_PASSAGES}之间的整数，收到“{k}”。")
    return int(text)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"参数 {name}应为 {'、'.join(allowed)} 之一，收到“{value}”。")
    return value


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"参数 {name}应为文字，收到“{value}”。")
    return value


def _texts(name: str, value: Any) -> tuple[str, ...]:
    """A list of strings; one string is taken as a list of one."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"参数 {name}应为文字列表，收到“{value}”。")
    return tuple(value)


def _switch(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"参数 {name}应为 true、false 或不填，收到“{value}”。")
