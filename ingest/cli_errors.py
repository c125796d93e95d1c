"""The one wrapper the four entry points share: errors become one line and an exit status.

    python -m ingest, python -m index.search, python -m eval, python app.py

    def main(argv=None) -> int:
        args = parser.parse_args(argv)
        with exit_on_error(OSError, codes={IndexBusyError: EXIT_BUSY}):
            ...
            return 0

Inside the block a BulletinError (ingest/errors.py: usage, ingest, index and embedder
problems), or one of the extra exception types an entry point names, is printed as
"错误 / error: <message>" on stderr, and the program ends with its exit status (2 unless
`codes` maps its class to another), raised as SystemExit just as argparse does for a bad
flag. Anything else is a bug and keeps its traceback.

It lives in ingest/, the bottom layer, so that every entry point can import it.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, Mapping

from ingest.errors import BulletinError

EXIT_USAGE = 2  # bad flags or values, and index or embedder problems
EXIT_BUSY = 3  # python -m ingest: another ingest holds the index lock


def error_line(exc: BaseException) -> str:
    return f"错误 / error: {exc}"


def exit_status(exc: BaseException, codes: Mapping[type[BaseException], int] | None = None) -> int:
    """The first status in `codes` whose class `exc` is an instance of, else EXIT_USAGE."""
    return next((code for kind, code in (codes or {}).items() if isinstance(exc, kind)), EXIT_USAGE)


@contextmanager
def exit_on_error(
    *also: type[BaseException], codes: Mapping[type[BaseException], int] | None = None, stream=None
) -> Iterator[None]:
    """Turn a BulletinError (or one of `also`) raised in the block into one line on stderr
    and SystemExit(status); see the module docstring."""
    try:
        yield
    except (BulletinError, *also) as exc:
        print(error_line(exc), file=stream or sys.stderr, flush=True)
        raise SystemExit(exit_status(exc, codes)) from None
