"""Export files do not outlive the app: SIGTERM removes its export root (and, for the real app,
Gradio's copies of the downloads); a root left by a killed process goes at the next start."""

import os
import signal
import subprocess
import sys
import time

import pytest

from browser import ask_in_page, browser  # noqa: F401  (fixture)
from chat.export_folder import PREFIX, ExportFolder
from conftest import ROOT
from live_app import running_app

pytestmark = pytest.mark.slow

# A stand-in for app.py: the export root is made the way answer_handlers makes it, one answer's
# file is written, and the main thread waits the way Gradio's launch() does (a sleep loop that
# ends on KeyboardInterrupt).
HOLDER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from chat.export_folder import ExportFolder

exports = ExportFolder.create(sys.argv[1])
(exports.new_folder() / "先例.docx").write_bytes(b"x" * 60_000)
try:  # the root is printed inside: the test's signal may come the moment it is read
    print(exports.root, flush=True)
    while True:
        time.sleep(0.1)
except KeyboardInterrupt:
    print("stopped", flush=True)
"""


def start_holder(parent):
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(parent), str(ROOT)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    root = process.stdout.readline().strip()
    assert root.startswith(str(parent / f"{PREFIX}{process.pid}-")), root
    assert any(os.scandir(root))
    return process, root


def test_sigterm_stops_cleanly_and_leaves_no_export_folder(tmp_path):
    process, root = start_holder(tmp_path)
    process.send_signal(signal.SIGTERM)  # what Popen.terminate(), kill and systemd send
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and out.strip() == "stopped"
    assert list(tmp_path.iterdir()) == []


def test_the_root_of_a_killed_app_is_removed_at_the_next_start(tmp_path):
    process, root = start_holder(tmp_path)
    process.kill()  # SIGKILL: no cleanup is possible
    process.communicate(timeout=30)
    assert os.path.isdir(root)
    exports = ExportFolder.create(tmp_path, remove_at_exit=False)  # the next app starting
    assert not os.path.exists(root) and list(tmp_path.iterdir()) == [exports.root]


def test_the_real_app_leaves_no_export_files_after_sigterm(real_index, browser, tmp_path):  # noqa: F811
    """python app.py, an answer exported and downloaded, then terminate() (SIGTERM): its export
    root is gone, and so are Gradio's copies of the files (delete_cache)."""
    temp = tmp_path / "tmp"  # the app's system temp folder: its roots and Gradio's cache
    temp.mkdir()
    with running_app(real_index, tmp_path, TMPDIR=str(temp)) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        ask_in_page(page, "哪些市州印发了精品年鉴品读季活动实施方案？")
        page.locator(".group-heading").first.wait_for(timeout=60_000)
        with page.expect_download() as info:
            page.locator("#export-docx").click()
        assert info.value.suggested_filename.endswith(".docx")
        page.close()
        roots = [p for p in temp.iterdir() if p.name.startswith(PREFIX)]
        assert len(roots) == 1 and len(list(roots[0].glob("*/*.docx"))) == 1
        assert len(list((temp / "gradio").glob("*/*.docx"))) == 1
        started = time.monotonic()
    assert time.monotonic() - started < 15  # stopped, not killed after running_app's timeout
    assert not roots[0].exists()
    left = [p.name for p in (temp / "gradio").rglob("*") if p.is_file()]
    assert not any(name.endswith((".md", ".csv", ".docx")) for name in left), left
