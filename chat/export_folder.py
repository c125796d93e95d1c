"""Where the web chat writes its download files (导出 Markdown / CSV / Word), and how they go.

    exports = ExportFolder.create()  # $TMPDIR/bulletin-exports-<pid>-XXXXXXXX; stale ones swept
    folder = exports.new_folder()    # a fresh folder for one answer's three files

One root per app process, named with the process id; one folder per answer inside it.

- **Age.** Each new answer first removes the answer folders older than MAX_AGE (one hour). The
  page's download buttons always hold the latest answer of a conversation, and someone may read
  its cards and draft for a while before clicking 导出: an hour covers that, and asking again
  rebuilds the files in a second. After each answer the root holds only the past hour's
  answers (~60 KB each).
- **Exit.** The root is removed when the app exits: at interpreter exit (atexit) and on SIGTERM,
  which Gradio leaves at Python's default (die at once, no cleanup: Gradio runs uvicorn in a
  thread with its signal handlers switched off) and which is turned here into the same clean
  stop as Ctrl-C.
- **Crashes.** A process killed outright (SIGKILL, power loss) cannot clean up: the next app to
  start removes the roots whose process is gone (a root whose pid a new process took waits
  for that one to end; on Windows, where a pid cannot be probed safely, none is swept). Roots
  of the older unnamed kind (bulletin-exports-XXXXXXXX, before roots carried the pid) go when
  untouched for a day: such a root cannot tell whether its app still runs, and an old app whose
  root vanished fails to export, so only a day without a single answer counts as abandoned.

Gradio serves a download from its own copy of the file (GRADIO_TEMP_DIR, default
$TMPDIR/gradio); GRADIO_DELETE_CACHE is the `gr.Blocks(delete_cache=...)` that ages those copies
the same way and removes them when the server stops.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger("bulletin.exports")

PREFIX = "bulletin-exports-"
MAX_AGE = 3600.0  # seconds an answer's files stay downloadable (at least)
# Gradio's copies: checked every 10 minutes, removed when older than MAX_AGE.
GRADIO_DELETE_CACHE = (600, int(MAX_AGE))
OLD_ROOT_AGE = 86400.0  # an unnamed root untouched this long is abandoned

_ROOT = re.compile(re.escape(PREFIX) + r"(\d+)-[a-z0-9_]+")  # bulletin-exports-<pid>-XXXXXXXX
_OLD_ROOT = re.compile(re.escape(PREFIX) + r"[a-z0-9_]{8}")  # before roots carried the pid


class ExportFolder:
    """The app's export root: a fresh folder per answer, old ones pruned, all gone at exit."""

    def __init__(
        self, root: Path, max_age: float = MAX_AGE, clock: Callable[[], float] = time.time
    ):
        self.root = Path(root)
        self.max_age = max_age
        self.clock = clock
        self.pid = os.getpid()  # a forked child must not remove its parent's root at its exit
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls,
        parent: str | Path | None = None,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.time,
        remove_at_exit: bool = True,
    ) -> "ExportFolder":
        """A new root in `parent` (the system temp folder), after removing the roots that
        processes which died left there."""
        parent = Path(parent or tempfile.gettempdir())
        remove_stale_roots(parent, clock())
        root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
        exports = cls(root, max_age, clock)
        if remove_at_exit:
            exports.remove_at_exit()
        return exports

    def new_folder(self) -> Path:
        """An empty folder for one answer's files; older answers' folders are pruned first."""
        self.prune()
        self.root.mkdir(parents=True, exist_ok=True)  # in case someone emptied the temp folder
        return Path(tempfile.mkdtemp(prefix="answer-", dir=self.root))

    def prune(self) -> list[Path]:
        """Remove the answer folders last written more than max_age ago; returns them."""
        cutoff = self.clock() - self.max_age
        removed = []
        with self._lock:
            try:
                children = list(self.root.iterdir())
            except OSError:
                return removed
            for child in children:
                try:
                    old = child.is_dir() and child.stat().st_mtime < cutoff
                except OSError:
                    continue
                if old:
                    shutil.rmtree(child, ignore_errors=True)
                    removed.append(child)
        return removed

    def remove(self) -> None:
        """Remove the whole root (at exit). Only the process that created it does."""
        if os.getpid() == self.pid:
            shutil.rmtree(self.root, ignore_errors=True)

    def remove_at_exit(self) -> None:
        atexit.register(self.remove)
        stop_cleanly_on_sigterm()


def remove_stale_roots(parent: Path, now: float | None = None) -> list[Path]:
    """Remove from `parent` the export roots of app processes that are gone, and roots of the
    older unnamed kind untouched for OLD_ROOT_AGE; only this user's folders. Returns them."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        named, old = _ROOT.fullmatch(entry.name), _OLD_ROOT.fullmatch(entry.name)
        if not named and not old:
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or not _mine(info):
            continue
        if named:
            pid = int(named.group(1))
            if pid == os.getpid() or pid_alive(pid):
                continue
        elif now - info.st_mtime <= OLD_ROOT_AGE:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        log.info("removed the export folder of an app that is gone: %s", entry)
        removed.append(entry)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on Windows: always assumed, nothing is swept)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def _mine(info: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


_sigterm_installed = False


def stop_cleanly_on_sigterm() -> None:
    """Make SIGTERM (`kill`, systemd, Popen.terminate()) stop the app like Ctrl-C does, so that
    atexit handlers run, rather than kill it on the spot (Python's default, which Gradio
    keeps). Only from the main thread, and only when nobody has set a SIGTERM handler."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, _interrupt)
    _sigterm_installed = True


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")
