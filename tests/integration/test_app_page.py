"""The web chat as an office user meets it, in a real browser: the [n] links, the page in
Chinese whatever the browser's language, 正在检索… at once, 清空对话 resetting everything,
the 查先例 switch, the phone layout. Screenshots go to reports/ui/."""

import re

import pytest

from browser import ask_in_page, browser  # noqa: F401  (fixture)
from conftest import ROOT
from live_app import running_app

pytestmark = pytest.mark.slow
SCREENSHOTS = ROOT / "reports" / "ui"
DAZHOU = "达州在年鉴质量方面做了什么决定？"
LIST_QUESTION = "哪些市州印发了精品年鉴品读季活动实施方案？"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}

# Latin words allowed on the page: our English example question, the export formats' names
# and the API (names, not interface words)
ALLOWED_LATIN = {"What did Dazhou decide on yearbook quality?"}
ALLOWED_WORDS = {"Markdown", "CSV", "Word", "API"}

# every visible text and every tooltip or accessible name outside the bulletins' own words
UI_TEXTS_JS = """() => {
  const content = '.card .passage, .card-title, .card-meta, .cite-text, .fulltext, '
    + '.message-content, textarea, style, script';
  const out = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement, text = node.textContent.trim();
    if (!text || !el || el.closest(content) || el.closest('svg')) continue;
    if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    out.add(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    for (const name of ['aria-label', 'title', 'placeholder']) {
      const value = el.getAttribute(name);
      if (value && !el.closest('.card, .fulltext')) out.add(value);
    }
  }
  return [...out];
}"""


def latin_ui_texts(page) -> list[str]:
    texts = page.evaluate(UI_TEXTS_JS)
    found = []
    for text in texts:
        if text in ALLOWED_LATIN or text.startswith(("回答：", "提问：")):
            continue  # a message's accessible name is the message itself
        words = set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED_WORDS
        if words:
            found.append(text)
    return found


@pytest.fixture(scope="module")
def app(real_index, tmp_path_factory):
    with running_app(real_index, tmp_path_factory.mktemp("page-app")) as url:
        yield url


def open_page(browser, url, viewport=DESKTOP, locale="zh-CN"):  # noqa: F811
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.goto(url)
    page.locator("#question textarea").wait_for(timeout=60_000)
    return context, page


@pytest.fixture
def page(browser, app):  # noqa: F811
    context, page = open_page(browser, app)
    yield page
    context.close()


def test_cite_marker_scrolls_to_its_card_and_the_card_number_back(browser, app):  # noqa: F811
    context, page = open_page(browser, app, {"width": 1400, "height": 700})
    ask_in_page(page, "2024年3月哪些地方召开了地方志工作会议？")
    page.locator("#card-3").wait_for(timeout=60_000)
    ask_in_page(page, DAZHOU)
    page.locator("#chat .reply-mode").nth(1).wait_for(timeout=60_000)  # the second answer
    # the first reply's markers pointed to cards that are gone: no longer links
    first_reply = page.locator("#chat .message-content").nth(1)
    assert first_reply.locator("a.cite-ref").count() == 0
    assert first_reply.locator(".cite-old").count() > 0
    marker = page.locator("#chat a.cite-ref").last
    number = marker.inner_text().strip("[]")
    marker.click()
    card = page.locator(f"#card-{number}")
    page.wait_for_function(
        f"() => document.querySelector('#card-{number}').classList.contains('flash')",
        timeout=5_000,
    )
    page.wait_for_timeout(800)  # the smooth scroll
    assert card.evaluate("el => el.getBoundingClientRect().top < innerHeight")
    card.locator("a.back-ref").click()
    page.wait_for_function(
        f"""() => {{
          const refs = document.querySelectorAll('#chat a.cite-ref[href="#card-{number}"]');
          return refs.length && refs[refs.length - 1].classList.contains('flash');
        }}""",
        timeout=5_000,
    )
    context.close()


def test_question_shows_at_once_with_a_searching_line_and_the_box_is_free(page):
    # Record whether 正在检索… was ever shown: the answer itself may take only 0.2 s.
    page.evaluate("""() => {
      window.__sawPending = false;
      new MutationObserver(() => {
        if (document.querySelector('#chat').innerText.includes('正在检索…'))
          window.__sawPending = true;
      }).observe(document.querySelector('#chat'), {subtree: true, childList: true,
                                                  characterData: true});
    }""")
    ask_in_page(page, DAZHOU)
    box = page.locator("#question textarea")
    page.wait_for_function("() => document.querySelector('#question textarea').value === ''")
    assert box.is_editable()
    page.locator("#card-1").wait_for(timeout=60_000)
    assert page.evaluate("window.__sawPending")
    assert "正在检索…" not in page.locator("#chat").inner_text()
    assert "processing" not in page.locator("body").inner_text()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_page_speaks_chinese_whatever_the_browser_language(browser, app, locale):  # noqa: F811
    context, page = open_page(browser, app, locale=locale)
    ask_in_page(page, DAZHOU)
    page.locator("#card-1").wait_for(timeout=60_000)
    page.locator("#chat button[aria-label='有用']").last.click()  # a toast: its title too
    page.get_by_text("已记录您的反馈").wait_for(timeout=10_000)
    assert "提示" in page.locator("[data-testid='toast-body']").first.inner_text()
    page.get_by_text("筛选", exact=True).click()  # the filters and their 高级 part too
    page.get_by_text("高级", exact=True).click()
    page.get_by_text("检索方式").wait_for(timeout=10_000)
    for name in ("综合", "关键词", "语义"):  # not hybrid / bm25 / dense
        assert page.get_by_label(name, exact=True).count() == 1
    assert latin_ui_texts(page) == []
    context.close()


def test_clearing_the_chat_resets_cards_exports_and_the_follow_up(page):
    ask_in_page(page, DAZHOU)
    page.locator("#card-1").wait_for(timeout=60_000)
    page.locator("#export-md").wait_for(state="visible")
    page.locator("#chat button[aria-label='清空对话']").click()  # Gradio's own clear button
    page.locator(".cards-empty").wait_for(timeout=10_000)
    assert not page.locator("#export-md").is_visible()
    assert not page.locator("#understood").is_visible()
    assert page.locator("#chat a.cite-ref").count() == 0
    ask_in_page(page, "那巴中呢？")  # nothing to follow any more: not 达州's topic for 巴中
    page.locator("#chat .message-content").nth(1).wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('#chat').innerText.includes('正在检索…')", timeout=60_000
    )
    assert "接上一个问题" not in page.locator("#chat").inner_text()


def test_list_mode_box_follows_the_answer_and_switches_it(page):
    box = page.locator("#precedent input[type=checkbox]")
    ask_in_page(page, LIST_QUESTION)  # the wording turns list mode on
    page.locator(".group-heading").first.wait_for(timeout=60_000)
    assert box.is_checked()
    assert "回答方式：查先例" in page.locator("#chat").inner_text()
    box.uncheck()  # the same question again, as a quoted answer
    page.wait_for_function("() => !document.querySelector('#cards .group-heading')", timeout=60_000)
    assert page.locator("#chat").inner_text().count("回答方式：问答") == 1
    assert not box.is_checked()
    ask_in_page(page, "德阳品读季活动筹集了多少经费？")  # a new question: its own wording decides
    page.wait_for_function(
        "() => document.querySelector('#chat').innerText.split('回答方式：问答').length === 3",
        timeout=60_000,
    )
    assert not box.is_checked()
    box.check()  # ticked by hand: this question as a list
    page.locator(".group-heading").first.wait_for(timeout=60_000)
    assert page.locator("#chat").inner_text().endswith("回答方式：查先例（按市州列出全部相关条目）")
    assert box.is_checked()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop-list-mode.png"))


def test_an_error_reply_clears_the_previous_answer(page):
    ask_in_page(page, DAZHOU)
    page.locator("#card-1").wait_for(timeout=60_000)
    page.get_by_text("筛选", exact=True).click()
    page.get_by_label("起始日期").fill("2024-13")
    ask_in_page(page, "德阳品读季活动筹集了多少经费？")
    page.get_by_text("日期“2024-13”不存在").wait_for(timeout=60_000)
    page.locator(".cards-empty").wait_for(timeout=10_000)  # no cards of the last question
    assert not page.locator("#export-md").is_visible()


def test_user_text_stays_text_in_the_chat(page):
    ask_in_page(page, "[点我](http://example.com) http://example.org/x 年鉴质量")
    page.locator("#chat .message-content").nth(1).wait_for(timeout=60_000)
    user = page.locator("#chat .message.user, #chat [data-testid='user']").first
    assert user.locator("a").count() == 0
    assert "[点我](http://example.com)" in user.inner_text()


def test_desktop_and_phone_layouts(browser, app):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page = open_page(browser, app)
    intro = page.locator("#intro")
    assert "右侧" in intro.inner_text() and "下方" not in intro.inner_text()
    ask_in_page(page, DAZHOU)
    page.locator("#card-1").wait_for(timeout=60_000)
    assert not page.locator("#chat a.jump-cards").is_visible()  # the cards are beside it
    page.screenshot(path=str(SCREENSHOTS / "desktop.png"))
    context.close()

    context, page = open_page(browser, app, PHONE)
    intro = page.locator("#intro")
    # the page's script rewords the intro once it sees the stacked layout (later on a busy
    # machine than the text box appears)
    page.wait_for_function(
        "document.querySelector('#intro').innerText.includes('下方')", timeout=15_000
    )
    assert "下方" in intro.inner_text() and "右侧" not in intro.inner_text()
    ask_in_page(page, DAZHOU)
    page.locator("#card-1").wait_for(timeout=60_000)
    jump = page.locator("#chat a.jump-cards").last
    assert jump.is_visible() and jump.inner_text() == "查看引用的原文段落 ↓"
    page.screenshot(path=str(SCREENSHOTS / "phone.png"))
    jump.click()
    page.wait_for_timeout(800)
    assert page.locator("#cards").evaluate("el => el.getBoundingClientRect().top < innerHeight")
    page.screenshot(path=str(SCREENSHOTS / "phone-cards.png"))
    context.close()
