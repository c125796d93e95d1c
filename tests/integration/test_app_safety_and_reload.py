"""Hostile text stays text in the browser; a new bulletin becomes searchable without a restart."""

import shutil
import time

import pytest
from gradio_client import Client

from browser import ask_in_page, browser  # noqa: F401  (fixture)
from conftest import cli
from live_app import running_app

pytestmark = pytest.mark.slow

HOSTILE = """四川省地方志工作办公室 2024年5月6日

【市州动态】

攀枝花市召开方志馆建设<script>alert("xss")</script>推进会

5月6日，攀枝花市地方志办召开方志馆建设推进会<img src=x onerror="alert(2)">，研究部署方志馆布展工作。会议要求，各部门按时完成布展任务。

（攀枝花市地方志办）
"""  # noqa: E501  (a bulletin paragraph is one line)

NEW_BULLETIN = """四川省地方志工作办公室 2024年6月3日

【市州动态】

攀枝花市方志馆正式开馆

5月28日，攀枝花市方志馆正式开馆，馆内设置城市记忆、三线建设等六个展区，首日接待市民群众1200余人次。

（攀枝花市地方志办）
"""


def test_script_and_onerror_in_a_bulletin_show_as_text(browser, tmp_path):  # noqa: F811
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    index_dir = tmp_path / "index"
    cli("-m", "ingest", str(corpus), "--index", str(index_dir), "--no-progress")
    with running_app(index_dir, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        ask_in_page(page, "攀枝花<b>方志馆</b>建设推进会<script>alert(3)</script>")
        card = page.locator("#card-1")
        card.wait_for(timeout=60_000)
        assert '<img src=x onerror="alert(2)">' in card.locator(".passage").inner_text()
        assert '<script>alert("xss")</script>' in card.inner_text()
        # the user's own text too
        assert "<script>alert(3)</script>" in page.locator("#chat").inner_text()
        card.get_by_role("button", name="查看全文").click()
        page.locator("#cited-passage").wait_for(timeout=30_000)
        assert "onerror" in page.locator(".fulltext-body").inner_text()
        time.sleep(1)  # give any injected handler the chance to fire
        assert dialogs == []
        for area in ("#cards", "#chat"):
            assert page.locator(f"{area} script").count() == 0
            assert page.locator(f"{area} img[onerror]").count() == 0
            # the user's <b> stays text
            assert page.locator(f"{area} b", has_text="方志馆").count() == 0
        page.close()


def test_new_bulletin_is_served_after_ingest_without_restart(real_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(real_index, index_dir)
    # embeddings of the five
    shutil.copytree(real_index.with_name("index.cache"), index_dir.with_name("index.cache"))
    new = tmp_path / "new" / "005_new.txt"
    new.parent.mkdir()
    new.write_text(NEW_BULLETIN, encoding="utf-8")
    with running_app(index_dir, tmp_path) as url:
        client = Client(url, verbose=False, analytics_enabled=False)
        before = client.predict(question="攀枝花市方志馆什么时候开馆", api_name="/ask")
        assert before["found"] is False
        cli("-m", "ingest", str(new), "--index", str(index_dir), "--no-progress")
        deadline = time.monotonic() + 60
        while True:
            after = client.predict(question="攀枝花市方志馆什么时候开馆", api_name="/ask")
            if after["found"] or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert after["found"] is True
        assert after["results"][0]["date"] == "2024-06-03" and "正式开馆" in after["answer"]
        summary = client.predict(question="眉山年鉴获奖", api_name="/ask")["not_found_message"]
        assert "已收录的6期简报（2020年7月—2024年6月）" in summary
