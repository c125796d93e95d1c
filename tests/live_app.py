"""Start the real web chat (python app.py) in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(index_dir: Path, tmp_path: Path, **env: str):
    """Yields the app's URL once it answers; stops it afterwards. Extra env vars are passed on."""
    port = free_port()
    log = (tmp_path / f"app-{port}.log").open("w", encoding="utf-8")
    environment = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "BULLETIN_FEEDBACK_FILE": str(tmp_path / "votes.jsonl"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port), "--index", str(index_dir)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"app exited with {process.returncode}: "
                    f"{(tmp_path / f'app-{port}.log').read_text()}"
                )
            try:
                if httpx.get(url, timeout=2).status_code in (200, 401, 302):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"app did not start: {(tmp_path / f'app-{port}.log').read_text()}"
                )
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
