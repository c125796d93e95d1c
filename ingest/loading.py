"""Read a bulletin file into text, detecting its encoding without guessing wildly.

Offices save TXT as UTF-8, UTF-8 with BOM, or GBK/GB18030. GB18030 accepts
many byte sequences, so a decode that "works" can still be mojibake or binary
junk: we check that the result looks like Chinese text before accepting it.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import DecodeError, EmptyFileError, FileTooLargeError, IngestError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class LoadedText:
    path: str
    text: str
    encoding: str
    sha256: str


def read_text_file(path: str | Path, max_bytes: int | None = None) -> LoadedText:
    data = read_file_bytes(path, max_bytes)
    text, encoding = decode_bytes(data, str(path))
    return LoadedText(str(path), text, encoding, hashlib.sha256(data).hexdigest())


def read_file_bytes(path: str | Path, max_bytes: int | None = None) -> bytes:
    """The file's bytes, or an IngestError naming the file (missing, unreadable, too large)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if max_bytes is not None and size > max_bytes:
                raise FileTooLargeError(str(path), too_large_reason(size, max_bytes))
            # Read one byte past the limit: a file that grew after the size check is caught too.
            data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise IngestError(
            str(path),
            "文件不存在（可能在索引过程中被移动或删除）/ file not found (moved or deleted?)",
        ) from None
    except PermissionError:
        raise IngestError(
            str(path), "没有读取权限 / permission denied (cannot read the file)"
        ) from None
    except IsADirectoryError:
        raise IngestError(str(path), "是文件夹，不是文件 / is a directory, not a file") from None
    except OSError as exc:
        raise IngestError(str(path), f"无法读取 / cannot read: {exc.strerror or exc}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise FileTooLargeError(str(path), too_large_reason(len(data), max_bytes))
    if not data:
        raise EmptyFileError(str(path), "文件为空 / file is empty")
    return data


def too_large_reason(size: int, max_bytes: int) -> str:
    return (
        f"文件过大（{human_size(size)}，上限 {human_size(max_bytes)}），未索引 / file too large "
        f"({human_size(size)} > {human_size(max_bytes)}); raise the limit with --max-file-mb or "
        "BULLETIN_MAX_FILE_MB"
    )


def human_size(size: int) -> str:
    return f"{size / 2**20:.3g} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"


def decode_bytes(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding name) or raise a DecodeError naming the file."""
    if not data.strip():
        raise EmptyFileError(name, "文件为空 / file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), name, encoding), encoding
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    name,
                    f"编码错误 / has a {encoding} byte-order mark "
                    f"but invalid bytes at offset {exc.start}",
                ) from None
    if b"\x00" in data:
        raise DecodeError(
            name, "不是文本文件（含二进制字节）/ looks binary (contains NUL bytes), not a text file"
        )
    try:
        return _checked(data.decode("utf-8"), name, "utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
        if exc.reason == "unexpected end of data":
            # Cut off inside the last character (a truncated copy): keep the rest.
            return _checked(data[: exc.start].decode("utf-8"), name, "utf-8"), "utf-8"
    # A UTF-8 file with a few damaged bytes would decode as GB18030 mojibake:
    # report the damage instead of indexing nonsense.
    bad = data.decode("utf-8", errors="replace").count("\ufffd")
    if bad <= max(3, len(data) // 2000):
        raise DecodeError(
            name,
            f"文件已损坏或不完整 / looks like UTF-8 but has {bad} invalid byte sequence(s), first "
            f"at byte {first_bad}; the file may be truncated or damaged",
        )
    try:
        return _checked(data.decode("gb18030"), name, "gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    raise DecodeError(
        name, "无法识别编码 / cannot decode as UTF-8 or GB18030/GBK; save it as UTF-8 and try again"
    )


def _checked(text: str, name: str, encoding: str) -> str:
    """Reject decodes that produced control characters or no readable text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    visible = [c for c in text if not c.isspace()]
    if not visible:
        raise EmptyFileError(name, "文件只有空白 / file contains only whitespace")
    controls = sum(1 for c in visible if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn"))
    if controls / len(visible) > 0.01:
        raise DecodeError(
            name,
            f"不是文本简报（含控制字符）/ decoded as {encoding} but contains control or unassigned "
            "characters: not a text bulletin",
        )
    readable = sum(1 for c in visible if is_readable_char(c))
    if readable / len(visible) < 0.9:
        raise DecodeError(
            name,
            f"编码可能有误（乱码）/ decoded as {encoding} but most characters are not Chinese or "
            "ASCII text: probably a wrong encoding",
        )
    return text


def is_readable_char(char: str) -> bool:
    """Chinese, ASCII or punctuation: what a bulletin is written in (not mojibake or private-use
    glyphs)."""
    return _is_cjk(char) or char.isascii() or unicodedata.category(char).startswith("P")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x3000 <= code <= 0x303F  # CJK punctuation
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x2FFFF
    )
