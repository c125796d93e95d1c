"""Read a bulletin file into text, detecting its encoding without guessing wildly.

Offices save TXT as UTF-8, UTF-8 with BOM, or GBK/GB18030. GB18030 accepts
many byte sequences, so a decode that "works" can still be mojibake or binary
junk: we check that the result looks like Chinese text before accepting it.
"""
from __future__ import annotations

import codecs
import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import DecodeError, EmptyFileError, IngestError

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


def read_text_file(path: str | Path) -> LoadedText:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(str(path), "file not found") from None
    except PermissionError:
        raise IngestError(str(path), "permission denied (cannot read the file)") from None
    except IsADirectoryError:
        raise IngestError(str(path), "is a directory, not a file") from None
    except OSError as exc:
        raise IngestError(str(path), f"cannot read: {exc.strerror or exc}") from None
    text, encoding = decode_bytes(data, str(path))
    return LoadedText(str(path), text, encoding, hashlib.sha256(data).hexdigest())


def decode_bytes(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding name) or raise a DecodeError naming the file."""
    if not data.strip():
        raise EmptyFileError(name, "file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), name, encoding), encoding
            except UnicodeDecodeError as exc:
                raise DecodeError(name, f"has a {encoding} byte-order mark but invalid bytes at offset {exc.start}") from None
    if b"\x00" in data:
        raise DecodeError(name, "looks binary (contains NUL bytes), not a text file")
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
        raise DecodeError(name, f"looks like UTF-8 but has {bad} invalid byte sequence(s), first at byte {first_bad}; the file may be truncated or damaged")
    try:
        return _checked(data.decode("gb18030"), name, "gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    raise DecodeError(name, "cannot decode as UTF-8 or GB18030/GBK; save it as UTF-8 and try again")


def _checked(text: str, name: str, encoding: str) -> str:
    """Reject decodes that produced control characters or no readable text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    visible = [c for c in text if not c.isspace()]
    if not visible:
        raise EmptyFileError(name, "file contains only whitespace")
    controls = sum(1 for c in visible if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn"))
    if controls / len(visible) > 0.01:
        raise DecodeError(name, f"decoded as {encoding} but contains control or unassigned characters: not a text bulletin")
    readable = sum(1 for c in visible if _is_cjk(c) or c.isascii() or unicodedata.category(c).startswith("P"))
    if readable / len(visible) < 0.9:
        raise DecodeError(name, f"decoded as {encoding} but most characters are not Chinese or ASCII text: probably a wrong encoding")
    return text


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x3000 <= code <= 0x303F  # CJK punctuation
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x2FFFF
    )
