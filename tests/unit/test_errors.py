"""One error hierarchy (ingest/errors.py) and the one wrapper the entry points share
(ingest/cli_errors.py): an error becomes one line on stderr and an exit status."""

from __future__ import annotations

import io

import pytest

from index.embedders import EmbedderError
from index.lock import IndexBusyError
from index.store import (
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    IndexProblem,
    IndexWriteError,
)
from ingest.cli_errors import EXIT_BUSY, exit_on_error
from ingest.errors import BulletinError, DecodeError, IngestError, UsageError
from ingest.limits import max_file_bytes


def test_one_hierarchy(monkeypatch):
    for kind in (
        UsageError,
        IngestError,
        DecodeError,
        IndexProblem,
        IndexMissingError,
        IndexMismatchError,
        IndexDamagedError,
        IndexWriteError,
        IndexBusyError,
        EmbedderError,
    ):
        assert issubclass(kind, BulletinError), kind
    assert issubclass(UsageError, ValueError)  # callers that catch ValueError still do
    error = DecodeError("a.txt", "无法识别编码")
    assert (error.path, error.reason, str(error)) == (
        "a.txt",
        "无法识别编码",
        "a.txt: 无法识别编码",
    )
    monkeypatch.setenv("BULLETIN_MAX_FILE_MB", "lots")
    with pytest.raises(UsageError, match="BULLETIN_MAX_FILE_MB"):
        max_file_bytes()


def test_the_wrapper_prints_one_line_and_exits():
    err = io.StringIO()
    with pytest.raises(SystemExit) as caught, exit_on_error(stream=err):
        raise IndexMissingError("还没有索引 / no index at x")
    assert caught.value.code == 2 and err.getvalue() == "错误 / error: 还没有索引 / no index at x\n"

    busy = IndexBusyError("DIR", 1234, 0, 0)
    with pytest.raises(SystemExit) as caught, exit_on_error(stream=io.StringIO()):
        raise busy
    assert caught.value.code == 2  # busy is an index problem like the others …
    with (
        pytest.raises(SystemExit) as caught,
        exit_on_error(stream=io.StringIO(), codes={IndexBusyError: EXIT_BUSY}),
    ):
        raise busy
    # … except where the entry point says otherwise (python -m ingest)
    assert caught.value.code == 3

    with pytest.raises(SystemExit) as caught, exit_on_error(OSError, stream=io.StringIO()):
        raise PermissionError("no")
    assert caught.value.code == 2
    with pytest.raises(KeyError), exit_on_error(OSError, stream=io.StringIO()):
        raise KeyError("a bug keeps its traceback")
    with exit_on_error():
        pass  # nothing raised: nothing printed, no exit
