"""The web chat in a real browser: ask, read the card, open the full text, copy, vote, follow up."""

import json
import time

import pytest

from browser import ask_in_page, browser  # noqa: F401  (fixture)
from conftest import ROOT
from live_app import running_app

pytestmark = pytest.mark.slow
DAZHOU_LEAD = "10月10日，达州市地方志办召开专题会议"
SCREENSHOTS = ROOT / "reports" / "ui"


@pytest.fixture(scope="module")
def app(real_index, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-app")
    with running_app(real_index, tmp) as url:
        yield url, tmp / "votes.jsonl"


@pytest.fixture
def page(browser, app):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app[0].rstrip("/"))
    page = context.new_page()
    page.goto(app[0])
    yield page
    context.close()


def test_question_card_highlight_and_full_text(page):
    ask_in_page(page, "达州在年鉴质量方面做了什么决定？")
    card = page.locator("#card-1")
    card.wait_for(timeout=60_000)
    assert "2022年11月2日" in card.locator(".card-head").inner_text()
    assert "【市州动态】" in card.locator(".card-head").inner_text()
    assert card.locator("mark.hl").first.inner_text().startswith(DAZHOU_LEAD)
    assert DAZHOU_LEAD in page.locator("#chat").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "answer.png"))

    card.get_by_role("button", name="查看全文").click()
    cited = page.locator("#cited-passage")
    cited.wait_for(timeout=30_000)
    assert cited.inner_text().startswith(DAZHOU_LEAD)
    body = page.locator(".fulltext-body").inner_text()  # the whole bulletin, not just the passage
    assert body.startswith("【市州动态】") and "2022年11月2日印发" in body
    time.sleep(0.3)
    assert cited.evaluate("""el => {
        const r = el.getBoundingClientRect(),
          box = el.closest('.fulltext-body').getBoundingClientRect();
        return r.top < Math.min(window.innerHeight, box.bottom) &&
          r.bottom > Math.max(0, box.top);
      }"""), "the cited passage is scrolled into view"
    page.screenshot(path=str(SCREENSHOTS / "full-text.png"))


def test_copy_citation_puts_the_house_format_on_the_clipboard(page):
    ask_in_page(page, "达州在年鉴质量方面做了什么决定？")
    button = page.locator("#card-1").get_by_role("button", name="复制引用")
    button.wait_for(timeout=60_000)
    button.click()
    page.get_by_role("button", name="已复制").wait_for(timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(
        "《四川省地方志工作简报》2022年11月2日 【市州动态】 “成都、"
        "泸州等地积极推进精品年鉴品读季活动走深走实”"
    )


def test_follow_up_and_vote_are_recorded(page, app):
    ask_in_page(page, "达州在年鉴质量方面做了什么决定？")
    page.locator("#card-1").wait_for(timeout=60_000)
    ask_in_page(page, "那巴中呢？")
    page.locator("#card-1 .passage", has_text="巴中市委史志办召开专题会议").wait_for(timeout=60_000)
    # Gradio's own label, in our Chinese (chat/page_text.py)
    page.locator("#chat button[aria-label='有用']").last.click()
    votes = app[1]
    deadline = time.monotonic() + 15
    while (
        not (votes.exists() and votes.read_text(encoding="utf-8").strip())
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    rows = [json.loads(line) for line in votes.read_text(encoding="utf-8").splitlines()]
    assert rows[-1]["vote"] == "up" and rows[-1]["question"] == "那巴中呢？"
    assert rows[-1]["query"] == "巴中市在年鉴质量方面做了什么决定？"
    assert rows[-1]["passages"][0]["citation"].startswith("《四川省地方志工作简报》")


def test_not_found_is_said_plainly(page):
    ask_in_page(page, "眉山市2023年年鉴获得了什么奖")
    page.locator(".cards.maybe").wait_for(timeout=60_000)
    chat = page.locator("#chat").inner_text()
    assert "在已收录的5期简报（2020年7月—2024年3月）中未找到" in chat
    assert "可能相关" in page.locator("#cards").inner_text()
    assert page.locator("#cards mark.hl").count() == 0


def test_precedent_list_is_grouped_and_exports_download(page):
    ask_in_page(page, "哪些市州印发了精品年鉴品读季活动实施方案？")
    page.locator(".group-heading").first.wait_for(timeout=60_000)
    cards = page.locator("#cards")
    assert cards.locator(".cards-heading").inner_text().startswith("先例：")
    groups = cards.locator(".group-heading").all_inner_texts()
    assert groups[:4] == ["成都 · 1条", "泸州 · 1条", "德阳 · 1条", "遂宁 · 1条"]
    assert "查先例" in page.locator("#understood").inner_text()
    with page.expect_download() as info:
        page.locator("#export-docx").click()
    saved = SCREENSHOTS / "precedent.docx"
    info.value.save_as(str(saved))
    from docx import Document

    text = "\n".join(p.text for p in Document(str(saved)).paragraphs)
    assert "《四川省地方志工作简报》2022年11月2日" in text and "成都" in text
    page.screenshot(path=str(SCREENSHOTS / "precedent.png"))


def test_dropping_an_understood_part_asks_again(page):
    ask_in_page(page, "达州2022年在年鉴质量上做了什么")
    chips = page.locator("#understood")
    chips.get_by_label("时间：2022年").wait_for(timeout=60_000)
    assert chips.get_by_label("地点：达州市（含所辖县市区）").is_checked()
    before = page.locator("#cards").inner_html()
    chips.get_by_label("时间：2022年").uncheck()
    # The answer is asked again: the cards are rendered anew (the 2022 bonus is gone).
    page.wait_for_function(
        "before => document.querySelector('#cards').innerHTML !== before",
        arg=before,
        timeout=30_000,
    )
    assert not chips.get_by_label("时间：2022年").is_checked()
    assert chips.get_by_label("地点：达州市（含所辖县市区）").is_checked()
    assert page.locator("#card-1").inner_text()
