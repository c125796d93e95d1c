"""The house citation format staff paste into drafts.

    《四川省地方志工作简报》2022年11月2日 【市州动态】 “成都、泸州等地积极推进精品年鉴品读季活动
    走深走实”（综合成都市、泸州市…信息）                    (one line; wrapped here)

Built from a search result (the JSON contract keys). A field the bulletin does not give
(date lost with the header, no source line, no issue number) is left out, never guessed:
the labelled date estimate is for reading, not for citing.
"""

from __future__ import annotations

from datetime import date

PUBLICATION = "《四川省地方志工作简报》"


def chinese_date(iso: str | None) -> str | None:
    """ "2022-11-02" -> "2022年11月2日"; None or a malformed date -> None."""
    if not iso:
        return None
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return None
    return f"{day.year}年{day.month}月{day.day}日"


def unknown_date_label(estimate: str | None) -> str:
    """How a passage of unknown date is dated for reading (cards, full text, exports, the CLI):
    "日期不详（约2024年）" with the labelled estimate, else "日期不详". Never in a citation."""
    return f"日期不详（约{estimate}年）" if estimate else "日期不详"


def date_label(iso: str | None, estimate: str | None = None) -> str:
    """ "2022年11月2日", else the unknown-date label."""
    return chinese_date(iso) or unknown_date_label(estimate)


# Where a date is shown next to a passage it says whose date it is: the bulletin's (the card,
# exports) or the event's the passage reports (exports): a report printed on 11月2日 may tell
# of a meeting on 10月10日.
BULLETIN_DATE = "简报日期"
EVENT_DATE = "事件日期"


def bulletin_date_label(iso: str | None, estimate: str | None = None) -> str:
    """ "简报日期：2022年11月2日"; "简报日期不详（约2024年）", "简报日期不详" (the unknown-date
    label's wording)."""
    when = chinese_date(iso)
    return f"{BULLETIN_DATE}：{when}" if when else "简报" + unknown_date_label(estimate)


def event_date_label(iso: str | None) -> str | None:
    """ "事件日期：2022年10月10日"; None when the passage reports no date of its own."""
    when = chinese_date(iso)
    return f"{EVENT_DATE}：{when}" if when else None


def house_citation(result: dict) -> str:
    head = PUBLICATION
    if result.get("issue_no"):
        head += result["issue_no"]
    when = chinese_date(result.get("date"))
    if when:
        head += f"（{when}）" if result.get("issue_no") else when
    parts = [head]
    if result.get("section"):
        parts.append(f"【{result['section']}】")
    tail = f"“{result['title']}”" if result.get("title") else ""
    if result.get("source_org"):
        tail += f"（{result['source_org']}）"
    pages = result.get("pages") or []
    if pages:
        tail += (
            f"，第{pages[0]}页"
            if len(pages) == 1 or pages[0] == pages[-1]
            else f"，第{pages[0]}—{pages[-1]}页"
        )
    if tail:
        parts.append(tail)
    return " ".join(parts)
