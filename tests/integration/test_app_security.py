"""The running web chat's HTTP hardening (chat/http_guard.py): security headers on the page and
the API, the login throttle, and the whole page still working in Chromium under the CSP."""

import re
import time

import httpx
import pytest
from gradio_client import Client

from browser import ask_in_page, browser  # noqa: F401  (fixture)
from live_app import running_app

pytestmark = pytest.mark.slow
LOCKOUT_S = 3  # BULLETIN_LOGIN_LOCKOUT_S: short, so that the test can wait for its end
HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
# uvicorn takes X-Forwarded-For from a loopback peer (its FORWARDED_ALLOW_IPS default), as from
# a reverse proxy on this machine: how this test stands in for a second client.
OTHER_CLIENT = {"X-Forwarded-For": "198.51.100.7"}
# Records CSP violations from the first script on (console messages can miss early ones).
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', e =>
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def app(real_index, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secure-app")
    env = {"BULLETIN_AUTH": "alice:pw", "BULLETIN_LOGIN_LOCKOUT_S": str(LOCKOUT_S)}
    with running_app(real_index, tmp, **env) as url:
        yield url


def login(url: str, password: str, headers: dict | None = None) -> httpx.Response:
    return httpx.post(
        url + "login", data={"username": "alice", "password": password}, headers=headers
    )


def assert_hardened(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.url)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


def test_security_headers_on_the_page_and_the_api(app):
    assert_hardened(httpx.get(app))
    with httpx.Client(base_url=app, headers={"X-Forwarded-For": "198.51.100.8"}) as session:
        assert_hardened(session.get("gradio_api/info"))  # 401 before the login
        assert session.post("login", data={"username": "alice", "password": "pw"}).is_success
        info = session.get("gradio_api/info")
        assert info.status_code == 200 and "/ask" in info.json()["named_endpoints"]
        assert_hardened(info)


def test_wrong_logins_lock_the_client_out_for_a_while(app):
    assert [login(app, "wrong").status_code for _ in range(5)] == [400] * 5
    locked = login(app, "pw")  # the right password, not even checked
    assert locked.status_code == 429
    wait = int(locked.headers["retry-after"])
    assert 1 <= wait <= LOCKOUT_S
    assert re.fullmatch(r"登录失败次数过多，请 \d+ 秒后再试。", locked.json()["detail"])
    assert_hardened(locked)
    assert login(app, "pw", OTHER_CLIENT).status_code == 200, "another client is not held"

    time.sleep(wait + 0.2)
    assert login(app, "pw").status_code == 200
    # Logged in, through the queue's streamed events (the middleware must not buffer them).
    client = Client(app, auth=("alice", "pw"), verbose=False, analytics_enabled=False)
    assert client.predict(question="达州年鉴质量", api_name="/ask")["found"] is True


def test_the_page_works_under_the_csp(browser, app):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.add_init_script(CSP_LISTENER)
    try:
        page.goto(app)
        page.get_by_label("用户名").fill("alice")
        page.get_by_label("密码").fill("pw")
        page.get_by_role("button", name="登录").click()
        ask_in_page(page, "达州在年鉴质量方面做了什么决定？")
        card = page.locator("#card-1")  # rendered by gr.HTML's template (Function: unsafe-eval)
        card.wait_for(timeout=60_000)
        assert "达州市地方志办" in page.locator("#chat").inner_text()
        card.get_by_role("button", name="查看全文").click()  # js_on_load and a server function
        page.locator("#cited-passage").wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        assert page.evaluate("window.__csp || []") == []
        assert [e for e in errors if "Content Security Policy" in e] == []
    finally:
        context.close()
