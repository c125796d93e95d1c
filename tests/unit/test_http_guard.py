"""chat/http_guard.py without a server: the login throttle on a fake clock, and both middlewares
driven as plain ASGI apps (tests/integration/test_app_security.py runs them in the real app)."""

import asyncio
import json

import pytest

from chat.http_guard import (
    CONTENT_SECURITY_POLICY,
    LoginThrottle,
    LoginThrottleMiddleware,
    SecurityHeadersMiddleware,
    launch_app_kwargs,
    throttle_from_env,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def fail(throttle: LoginThrottle, client: str, times: int) -> None:
    for _ in range(times):
        throttle.failed(client)


def test_five_failures_within_the_window_lock_the_client_out(clock):
    throttle = LoginThrottle(max_failures=5, window_s=60, lockout_s=60, clock=clock)
    fail(throttle, "10.0.0.1", 4)
    assert throttle.retry_after("10.0.0.1") == 0
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 60
    assert throttle.retry_after("10.0.0.2") == 0, "another client is not affected"
    clock.now += 59.5
    assert throttle.retry_after("10.0.0.1") == 1, "rounded up, never 0 while locked"
    clock.now += 0.5
    assert throttle.retry_after("10.0.0.1") == 0


def test_failures_spread_beyond_the_window_do_not_add_up(clock):
    throttle = LoginThrottle(max_failures=5, window_s=60, clock=clock)
    for _ in range(20):
        throttle.failed("10.0.0.1")
        clock.now += 15  # four in any 60 s
    assert throttle.retry_after("10.0.0.1") == 0


def test_a_success_resets_the_count(clock):
    throttle = LoginThrottle(max_failures=5, clock=clock)
    fail(throttle, "10.0.0.1", 4)
    throttle.succeeded("10.0.0.1")
    fail(throttle, "10.0.0.1", 4)
    assert throttle.retry_after("10.0.0.1") == 0


def test_lockouts_in_a_row_double_up_to_the_cap(clock):
    throttle = LoginThrottle(lockout_s=60, max_lockout_s=200, clock=clock)
    spans = []
    for _ in range(4):
        fail(throttle, "10.0.0.1", 5)
        spans.append(throttle.retry_after("10.0.0.1"))
        clock.now += spans[-1]
    assert spans == [60, 120, 200, 200]
    clock.now += throttle.window_s  # a quiet window after the lockout: the streak is forgotten
    fail(throttle, "10.0.0.1", 5)
    assert throttle.retry_after("10.0.0.1") == 60


def test_memory_is_bounded(clock):
    throttle = LoginThrottle(max_clients=100, clock=clock)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert throttle.tracked == 100
    fail(throttle, "10.9.9.9", 5)
    assert throttle.retry_after("10.9.9.9") == 60, "the newest client is kept"
    clock.now += 1000  # everyone idle for longer than a window (and the lockout) is dropped
    throttle.failed("10.0.0.1")
    assert throttle.tracked == 1


def test_lockout_length_from_the_environment():
    assert throttle_from_env({}).lockout_s == 60
    assert throttle_from_env({"BULLETIN_LOGIN_LOCKOUT_S": "2.5"}).lockout_s == 2.5
    for bad in ("abc", "0", "-1", "inf", "nan"):
        with pytest.raises(ValueError, match="BULLETIN_LOGIN_LOCKOUT_S"):
            throttle_from_env({"BULLETIN_LOGIN_LOCKOUT_S": bad})


# --- the middlewares, driven as ASGI apps ---------------------------------------------------


def gradio_login(password: str = "pw"):
    """Stands in for Gradio: 200 for /login with the right password, 400 otherwise; 200 else."""

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        ok = scope["path"] != "/login" or body == f"password={password}".encode()
        start = {"type": "http.response.start", "status": 200 if ok else 400}
        await send({**start, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"chunk1", "more_body": True})
        await send({"type": "http.response.body", "body": b"chunk2"})

    return app


def request(app, path="/login", password="wrong", client="10.0.0.1", method="POST"):
    """(status, headers as a dict, body messages) of one request through `app`."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    scope["client"] = (client, 50000)
    sent = []

    async def receive():
        return {"type": "http.request", "body": f"password={password}".encode()}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, bodies = sent[0], sent[1:]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, bodies


def test_the_sixth_wrong_login_gets_429_without_a_password_check(clock):
    throttle = LoginThrottle(clock=clock)
    app = SecurityHeadersMiddleware(LoginThrottleMiddleware(gradio_login(), throttle))
    assert [request(app)[0] for _ in range(5)] == [400] * 5
    status, headers, bodies = request(app, password="pw")  # even the right one: not checked
    assert status == 429 and headers["retry-after"] == "60"
    assert json.loads(bodies[0]["body"]) == {"detail": "登录失败次数过多，请 60 秒后再试。"}
    assert headers["x-frame-options"] == "DENY", "the 429 has the security headers too"
    assert request(app, client="10.0.0.2", password="pw")[0] == 200
    assert request(app, path="/gradio_api/info", method="GET")[0] == 200, "only /login is held"
    clock.now += 60
    assert request(app, password="pw")[0] == 200
    assert throttle.retry_after("10.0.0.1") == 0


def test_headers_are_added_and_the_body_still_streams():
    app = SecurityHeadersMiddleware(gradio_login())
    status, headers, bodies = request(app, path="/", method="GET")
    assert status == 200 and headers["content-type"] == "text/plain"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert [b["body"] for b in bodies] == [b"chunk1", b"chunk2"], "passed on chunk by chunk"


def test_the_csp_forbids_framing_plugins_and_foreign_origins():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert not any("*" in v or "http" in v for v in directives.values())


def test_launch_kwargs_put_the_headers_outside_the_throttle(clock):
    throttle = LoginThrottle(clock=clock)
    middleware = launch_app_kwargs(throttle)["middleware"]
    assert [m.cls for m in middleware] == [SecurityHeadersMiddleware, LoginThrottleMiddleware]
    assert middleware[1].kwargs["throttle"] is throttle
