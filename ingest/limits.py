"""How large a bulletin file may be: --max-file-mb, else $BULLETIN_MAX_FILE_MB, else 50 MB.

A bulletin is a few pages (a PDF of 10-500 KB); a file of hundreds of MB is a
scan archive or a mistake, and reading it would stall the whole run.
"""

from __future__ import annotations

import os

from ingest.errors import UsageError

DEFAULT_MAX_FILE_MB = 50.0
ENV_MAX_FILE_MB = "BULLETIN_MAX_FILE_MB"


def max_file_bytes(max_file_mb: float | None = None) -> int:
    """The limit in bytes; UsageError (a ValueError, with a message for the user) on a bad
    setting."""
    if max_file_mb is None:
        setting = os.environ.get(ENV_MAX_FILE_MB, "").strip()
        if not setting:
            max_file_mb = DEFAULT_MAX_FILE_MB
        else:
            try:
                max_file_mb = float(setting)
            except ValueError:
                raise UsageError(
                    f"{ENV_MAX_FILE_MB}={setting!r} 不是数字 / is not a number of megabytes"
                ) from None
    if not max_file_mb > 0:
        raise UsageError(
            f"文件大小上限必须大于 0 / the file size limit must be > 0 MB (got {max_file_mb})"
        )
    return int(max_file_mb * 2**20)
