"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for UI tests."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("BULLETIN_CHROMIUM", "/usr/bin/chromium")
# As root, with no network but loopback: no sandbox, and none of Chromium's own calls home.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def require_chromium() -> str:
    """The browser path; CI must have it (make test installs it), a developer without it skips."""
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs "
            "Debian's chromium (see Makefile, target browser)"
        )
    pytest.skip(
        f"{CHROMIUM} not installed (apt-get install chromium chromium-driver fonts-noto-cjk)"
    )


@pytest.fixture(scope="module")
def browser():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=ARGS)
        yield instance
        instance.close()


def ask_in_page(page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
