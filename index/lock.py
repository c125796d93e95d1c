"""One writer per index: an OS lock on the file DIR.lock, beside the index.

Two ingests on one index at once would each read the old manifest and the
later swap would silently drop the other's files, so every update holds this
lock from reading the old index to swapping in the new one. Searches never
take it: they read whole, swapped-in versions.

flock locks belong to the open file, and the kernel drops them when the
process ends however it ends (SIGKILL included), so a crashed ingest never
leaves a stale lock. The file itself stays (deleting a lock file races with
the next opener); it holds the holder's PID so a waiting ingest can say whom
it waits for.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from index.store import IndexProblem

try:
    import fcntl
except ImportError:  # Windows: no flock; see README "Safe updates"
    fcntl = None


class IndexBusyError(IndexProblem):
    """Another process holds the index lock (and we would not, or could no longer, wait)."""

    def __init__(self, index_dir: Path, holder_pid: int | None, waited: float, timeout: float):
        self.holder_pid = holder_pid
        who = f"PID {holder_pid}" if holder_pid else "PID ?"
        if timeout > 0:
            message = (
                f"另一个导入（{who}）仍在更新索引 {index_dir}，已等待 {waited:.0f} 秒，放弃 / "
                f"another ingest ({who}) is still updating "
                f"{index_dir}; gave up after {waited:.0f} s"
            )
        else:
            message = (
                f"另一个导入（{who}）正在更新索引 {index_dir}，未等待（--no-wait） / "
                f"another ingest ({who}) is updating {index_dir}; not waiting (--no-wait)"
            )
        super().__init__(message)


def lock_path_for(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".lock")


class IndexLock:
    """Exclusive lock on an index folder, as a context manager.

    timeout: seconds to wait for another holder; None waits for ever, 0 not at
    all. on_wait(holder_pid) is called once, when we first find the lock taken.
    """

    def __init__(
        self,
        index_dir: str | Path,
        timeout: float | None = None,
        on_wait: Callable[[int | None], None] | None = None,
        poll: float = 0.2,
    ):
        self.index_dir = Path(index_dir)
        self.path = lock_path_for(self.index_dir)
        self.timeout = timeout
        self.on_wait = on_wait
        self.poll = poll
        self.waited = 0.0
        self._fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started = time.monotonic()
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if self.timeout is not None and waited >= self.timeout:
                    holder = _read_pid(fd)
                    os.close(fd)
                    raise IndexBusyError(self.index_dir, holder, waited, self.timeout) from None
                if not announced and self.on_wait:
                    self.on_wait(_read_pid(fd))
                announced = True
                left = None if self.timeout is None else self.timeout - waited
                time.sleep(self.poll if left is None else max(0.0, min(self.poll, left)))
            except BaseException:
                os.close(fd)
                raise
        self.waited = time.monotonic() - started
        # Write before truncating, so a reader never finds the file empty mid-update.
        pid = f"{os.getpid()}\n".encode()
        os.pwrite(fd, pid, 0)
        os.ftruncate(fd, len(pid))
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no PID in the file once nobody holds the lock
        finally:
            os.close(fd)  # closing the last descriptor drops the flock

    def __enter__(self) -> "IndexLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
