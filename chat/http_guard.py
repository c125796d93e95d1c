"""HTTP hardening for the web chat: security headers on every response, a throttle on failed logins.

Both are pure ASGI middleware (no Starlette BaseHTTPMiddleware), so Gradio's streamed responses
(the queue's server-sent events) pass through chunk by chunk, never buffered.
`launch_app_kwargs()` gives what `page.launch(app_kwargs=...)` hands on to FastAPI(**kwargs).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Only what the Gradio page was seen to need in Chromium (tests/integration/test_app_security.py):
CONTENT_SECURITY_POLICY = "; ".join(
    [
        # Script files, fonts, fetch and the queue's server-sent events: this origin only.
        "default-src 'self'",
        # 'unsafe-inline': Gradio's index.html bootstraps with inline scripts (no nonce support);
        # 'unsafe-eval': gr.HTML compiles html_template and js_on_load (our passage cards)
        # with Function().
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        # Svelte's style attributes; the <style> Gradio injects for the theme and launch(css=).
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",  # Gradio's icons (the chatbot's buttons) are data: SVGs
        "frame-ancestors 'none'",  # no framing (clickjacking); X-Frame-Options for old browsers
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
)
LOGIN_PATHS = frozenset({"/login", "/login/"})


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS to every HTTP response the app sends (keeps any already set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class _Client:
    attempts: list[float] = field(default_factory=list)  # times of recent failed attempts
    locked_until: float = 0.0
    lockouts: int = 0  # lockouts in a row: each one lasts twice as long as the one before
    seen: float = 0.0


@dataclass
class LoginThrottle:
    """Counts failed logins per client; `max_failures` within `window_s` lock the client out.

    The lockout lasts `lockout_s`, doubled for each further lockout in a row (at most
    `max_lockout_s`); a successful login forgets the client. Memory stays bounded: clients idle
    for a window are dropped, and beyond `max_clients` the least recently seen go first.
    """

    max_failures: int = 5
    window_s: float = 60.0
    lockout_s: float = 60.0
    max_lockout_s: float = 3600.0
    max_clients: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _clients: OrderedDict[str, _Client] = field(default_factory=OrderedDict, repr=False)

    def retry_after(self, client: str) -> int:
        """Seconds (rounded up) until `client` may try again; 0 when it is not locked out."""
        state = self._clients.get(client)
        left = state.locked_until - self.clock() if state else 0.0
        return math.ceil(left) if left > 0 else 0

    def failed(self, client: str) -> None:
        """One failed attempt; the one that reaches `max_failures` starts a lockout."""
        now = self.clock()
        state = self._touch(client, now)
        state.attempts = [t for t in state.attempts if now - t < self.window_s] + [now]
        if len(state.attempts) >= self.max_failures:
            state.lockouts += 1
            span = min(self.lockout_s * 2 ** (state.lockouts - 1), self.max_lockout_s)
            state.locked_until = now + span
            state.attempts = []

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)

    @property
    def tracked(self) -> int:
        """How many clients are remembered (bounded by max_clients)."""
        return len(self._clients)

    def _touch(self, client: str, now: float) -> _Client:
        self._forget_idle(now)
        state = self._clients.pop(client, None) or _Client()
        state.seen = now
        self._clients[client] = state  # the most recently seen last
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)
        return state

    def _forget_idle(self, now: float) -> None:
        """Drops, oldest first, clients with no failure and no lockout within the last window.

        A lockout streak is thus remembered for one window after its lockout ends.
        """
        while self._clients:
            oldest = next(iter(self._clients.values()))
            if now - max(oldest.seen, oldest.locked_until) < self.window_s:
                break
            self._clients.popitem(last=False)


def _client_address(scope: Scope) -> str:
    """The peer address as uvicorn reports it (behind a reverse proxy: see docs/usage.md)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _is_login(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return scope.get("method") == "POST" and path in LOGIN_PATHS


class LoginThrottleMiddleware:
    """POST /login: 429 while the client is locked out, else counted and passed to Gradio.

    The attempt counts as failed before the password is checked, and is forgotten when Gradio
    answers 200: parallel guesses cannot all slip in before the first 400 is counted.
    """

    def __init__(self, app: ASGIApp, throttle: LoginThrottle | None = None) -> None:
        self.app = app
        self.throttle = throttle if throttle is not None else LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_login(scope):
            await self.app(scope, receive, send)
            return
        client = _client_address(scope)
        wait = self.throttle.retry_after(client)
        if wait:
            await _too_many(send, wait)
            return
        self.throttle.failed(client)

        async def send_and_reset(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self.throttle.succeeded(client)
            await send(message)

        await self.app(scope, receive, send_and_reset)


async def _too_many(send: Send, wait: int) -> None:
    detail = {"detail": f"登录失败次数过多，请 {wait} 秒后再试。"}
    body = json.dumps(detail, ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"retry-after", str(wait).encode("ascii")),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def throttle_from_env(environ: Mapping[str, str] | None = None) -> LoginThrottle:
    """The default throttle, with the first lockout's length from BULLETIN_LOGIN_LOCKOUT_S."""
    env = os.environ if environ is None else environ
    raw = env.get("BULLETIN_LOGIN_LOCKOUT_S", "").strip()
    if not raw:
        return LoginThrottle()
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds < math.inf):
        raise ValueError(f"BULLETIN_LOGIN_LOCKOUT_S must be a number of seconds > 0, not {raw!r}")
    return LoginThrottle(lockout_s=seconds)


def launch_app_kwargs(throttle: LoginThrottle | None = None) -> dict[str, Any]:
    """`app_kwargs` for `page.launch`: Gradio passes them on to FastAPI(**app_kwargs).

    A bad BULLETIN_LOGIN_LOCKOUT_S ends app.py like its other settings: one line, status 2.
    """
    from starlette.middleware import Middleware

    from ingest.cli_errors import exit_on_error

    if throttle is None:
        with exit_on_error(ValueError):
            throttle = throttle_from_env()
    return {
        "middleware": [
            # First in the list is outermost: the throttle's 429 gets the headers too.
            Middleware(SecurityHeadersMiddleware),
            Middleware(LoginThrottleMiddleware, throttle=throttle),
        ]
    }
