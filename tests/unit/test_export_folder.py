"""The web chat's export folder (chat/export_folder.py): a fresh folder per answer, old ones
pruned, stale roots of dead apps swept, the root removed at exit. (SIGTERM in a real process:
tests/integration/test_export_folder_exit.py.)"""

from __future__ import annotations

import os
import time

from chat.export_folder import (
    GRADIO_DELETE_CACHE,
    MAX_AGE,
    OLD_ROOT_AGE,
    PREFIX,
    ExportFolder,
    pid_alive,
    remove_stale_roots,
)

DEAD_PID = 2**22 + 1  # above Linux's largest pid_max: never a running process


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def exports_in(parent, clock=time.time) -> ExportFolder:
    # no atexit or SIGTERM handler in the test runner's process
    return ExportFolder.create(parent, clock=clock, remove_at_exit=False)


def age(path, seconds: float, now: float | None = None) -> None:
    when = (time.time() if now is None else now) - seconds
    os.utime(path, (when, when))


def test_each_answer_gets_a_fresh_empty_folder_under_a_root_named_with_the_pid(tmp_path):
    exports = exports_in(tmp_path)
    assert exports.root.parent == tmp_path
    assert exports.root.name.startswith(f"{PREFIX}{os.getpid()}-")
    first, second = exports.new_folder(), exports.new_folder()
    assert first != second and first.parent == second.parent == exports.root
    assert list(first.iterdir()) == [] and list(second.iterdir()) == []


def test_answer_folders_older_than_the_limit_are_pruned_at_the_next_answer(tmp_path):
    clock = Clock(time.time())
    exports = exports_in(tmp_path, clock)
    old, recent = exports.new_folder(), exports.new_folder()
    (old / "先例.docx").write_bytes(b"x")
    (recent / "先例.docx").write_bytes(b"x")
    age(old, MAX_AGE + 60, clock.now)
    age(recent, MAX_AGE - 60, clock.now)
    newest = exports.new_folder()
    assert not old.exists() and recent.exists() and newest.exists()
    clock.now += 120  # the clock moves on: the other one is now past the limit too
    assert exports.prune() == [recent] and newest.exists()


def test_the_limit_is_an_hour_for_our_folders_and_gradios_copies():
    assert MAX_AGE == 3600
    frequency, gradio_age = GRADIO_DELETE_CACHE
    assert gradio_age == MAX_AGE and 0 < frequency <= MAX_AGE


def test_cleanup_at_exit_removes_the_whole_root_only_in_its_own_process(tmp_path):
    exports = exports_in(tmp_path)
    (exports.new_folder() / "结果.csv").write_bytes(b"x")
    child = ExportFolder(exports.root)
    child.pid = os.getpid() + 1  # as if a forked child of the app exited
    child.remove()
    assert exports.root.exists()
    exports.remove()
    assert not exports.root.exists() and list(tmp_path.iterdir()) == []
    exports.remove()  # twice (atexit after an explicit call) is harmless
    assert exports.new_folder().parent == exports.root  # and an answer after it still works


def test_stale_roots_of_dead_apps_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / f"{PREFIX}{DEAD_PID}-abcd1234"
    live = tmp_path / f"{PREFIX}{os.getppid()}-efgh5678"  # the test runner's parent is running
    own = tmp_path / f"{PREFIX}{os.getpid()}-ijkl9012"
    for root in (dead, live, own):
        (root / "answer-x").mkdir(parents=True)
        (root / "answer-x" / "先例.md").write_text("x", encoding="utf-8")
    exports = exports_in(tmp_path)
    assert not dead.exists() and live.exists() and own.exists() and exports.root.exists()


def test_unnamed_roots_of_older_versions_go_after_a_day_untouched(tmp_path):
    now = time.time()
    abandoned, recent = tmp_path / f"{PREFIX}0qynkh_b", tmp_path / f"{PREFIX}2kzdhxqg"
    for root in (abandoned, recent):
        (root / "tmp1234").mkdir(parents=True)
    age(abandoned, OLD_ROOT_AGE + 60, now)
    age(recent, OLD_ROOT_AGE - 60, now)  # its app may still run: an old app needs its root
    assert remove_stale_roots(tmp_path, now) == [abandoned]
    assert recent.exists()


def test_only_export_roots_are_swept(tmp_path):
    lookalikes = [
        tmp_path / f"{PREFIX}notes",  # not a root's name
        tmp_path / f"{PREFIX}{DEAD_PID}",  # no random part
        tmp_path / "gradio",
    ]
    for path in lookalikes:
        path.mkdir()
        age(path, OLD_ROOT_AGE * 2)
    a_file = tmp_path / f"{PREFIX}{DEAD_PID}-abcd1234"
    a_file.write_text("not a folder", encoding="utf-8")
    link = tmp_path / f"{PREFIX}{DEAD_PID}-link0000"
    link.symlink_to(lookalikes[2], target_is_directory=True)
    assert remove_stale_roots(tmp_path) == []
    assert all(path.exists() for path in [*lookalikes, a_file, link])


def test_pid_alive():
    assert pid_alive(os.getpid()) and pid_alive(os.getppid())
    assert not pid_alive(DEAD_PID) and not pid_alive(0) and not pid_alive(-1)
