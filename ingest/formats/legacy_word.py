"""Legacy Word (.doc) and WPS Writer (.wps) files -> blocks, through LibreOffice.

Both are OLE compound documents in the Word 97-2003 binary format (WPS Writer
saves its .wps files in that format too). No Python library reads them
faithfully, so LibreOffice converts the file to DOCX in headless mode and the
DOCX reader (ingest/formats/word.py) reads the result: headings, bold titles
and tables come out as they do for a DOCX typed by hand.

Every conversion gets its own throwaway LibreOffice profile: LibreOffice lets
one process use a profile at a time and hands a second invocation's work to the
first, so a shared profile would make concurrent conversions, or a user's open
LibreOffice, collide. Start-up dominates the cost: about 3 seconds per file (5 on a
busy machine); one call converting many files would pay it once, if that is ever needed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ingest.errors import DamagedFileError, EncryptedFileError, IngestError
from ingest.formats.blocks import Block

CONVERT_TIMEOUT = 120  # seconds; a long .doc converts in a few, a hung LibreOffice never does
INSTALL_HINT = (
    "读取 .doc/.wps 需要安装 LibreOffice（sudo apt-get install libreoffice-writer-nogui）"
    "/ install LibreOffice to read .doc/.wps files"
)
# Where LibreOffice installs itself when it is not on PATH (macOS, Windows).
KNOWN_LOCATIONS = (
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# A password-protected DOCX is an OLE container holding an "EncryptedPackage" stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# What LibreOffice can read under a .doc/.wps name. Anything else (random bytes, a truncated
# file without its OLE directory) it would import as plain text: garbage in the index.
_WORD_STREAM = "WordDocument".encode("utf-16-le")  # Word 6-2003, and WPS Writer's .wps
_WORKS_STREAM = "CONTENTS".encode("utf-16-le")  # Microsoft Works .wps
_MARKUP_STARTS = (b"{\\rtf", b"<", b"MIME-Version")  # RTF, HTML/XML or MHT saved with a .doc name
_MAYBE_ENCRYPTED = (
    "（若文件设有密码：加密的 .doc 也是这种格式，请先取消密码）/ "
    "(a password-protected .doc looks the same: remove the password first)"
)


def find_soffice() -> str | None:
    """The LibreOffice command, or None when LibreOffice is not installed."""
    for command in ("soffice", "libreoffice"):
        found = shutil.which(command)
        if found:
            return found
    return next((p for p in KNOWN_LOCATIONS if os.path.isfile(p)), None)


def is_encrypted_ooxml(data: bytes) -> bool:
    """An OLE file that is a password-protected DOCX (not an old .doc)."""
    return data.startswith(OLE_MAGIC) and _ENCRYPTED_PACKAGE in data


def is_encrypted_doc(data: bytes) -> bool:
    """A Word 97-2003 file with its encryption flag set (fEncrypted in the FIB).

    The WordDocument stream starts on a sector boundary with the FIB: wIdent 0xA5EC,
    nFib, ..., and the flags word at byte 10. Without an OLE parser this looks at the
    first sector that starts like a FIB; a miss only means LibreOffice finds out."""
    if not data.startswith(OLE_MAGIC):
        return False
    for at in range(512, len(data) - 12, 512):
        if (
            data[at : at + 2] == b"\xec\xa5"
            and 0x65 <= int.from_bytes(data[at + 2 : at + 4], "little") <= 0x112
        ):
            return bool(int.from_bytes(data[at + 10 : at + 12], "little") & 0x0100)
    return False


def convertible(data: bytes) -> bool:
    """An OLE file with a Word (or Works) document inside, or RTF/HTML/MHT text."""
    if data.startswith(OLE_MAGIC):
        return _WORD_STREAM in data or _WORKS_STREAM in data
    return data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_MARKUP_STARTS)


def read_legacy_word(
    data: bytes, name: str, suffix: str = ".doc", timeout: float = CONVERT_TIMEOUT
) -> list[Block]:
    """Blocks of a .doc/.wps file (data: its bytes; name: shown in errors; suffix: ".doc" or
    ".wps")."""
    from ingest.formats.word import read_docx

    if data.startswith(_ZIP_MAGIC):
        return read_docx(data, name)  # a DOCX saved under a .doc/.wps name: no conversion needed
    if is_encrypted_ooxml(data) or is_encrypted_doc(data):
        raise EncryptedFileError(
            name,
            "Word/WPS 文件已加密；请取消密码后再导入 / "
            "password-protected Word/WPS file: remove the password and import it again",
        )
    if not convertible(data):
        raise DamagedFileError(
            name,
            "文件已损坏或不是 Word/WPS 文档 / damaged file, or not a Word/WPS document"
            + (" " + _MAYBE_ENCRYPTED if data.startswith(OLE_MAGIC) else ""),
        )
    soffice = find_soffice()
    if soffice is None:
        raise IngestError(name, INSTALL_HINT)
    return read_docx(convert_to_docx(soffice, data, name, suffix, timeout), name)


def convert_to_docx(soffice: str, data: bytes, name: str, suffix: str, timeout: float) -> bytes:
    """The DOCX LibreOffice makes of the file's bytes (the bytes that were read and hashed)."""
    ole = data.startswith(OLE_MAGIC)
    with tempfile.TemporaryDirectory(prefix="bulletin-soffice-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        # A plain ASCII name: the user's file name may start with "-" or hold anything.
        source = work / f"source{suffix if suffix in ('.doc', '.wps') else '.doc'}"
        source.write_bytes(data)
        out_dir = work / "out"
        command = [
            soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--convert-to",
            "docx",
            "--outdir",
            str(out_dir),
            str(source),
        ]
        # its own process group: a timeout ends all of it
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise DamagedFileError(
                name,
                f"LibreOffice 转换超时（{timeout:g} 秒），文件可能已损坏 / "
                f"LibreOffice conversion timed out after {timeout:g} s: damaged file?"
                + (" " + _MAYBE_ENCRYPTED if ole else ""),
            ) from None
        result = out_dir / "source.docx"
        if not result.is_file() or result.stat().st_size == 0:
            lines = [
                line.strip()
                for line in stderr.decode("utf-8", "replace").splitlines()
                if line.strip()
            ]
            # not the Java start-up note
            detail = " ".join(line for line in lines if "javaldx" not in line)[-200:]
            raise DamagedFileError(
                name,
                "LibreOffice 无法转换此文件，文件可能已损坏 / LibreOffice could not convert "
                "the file: damaged or not a Word document"
                + (" " + _MAYBE_ENCRYPTED if ole else "")
                + (f" ({detail})" if detail else ""),
            )
        return result.read_bytes()


def _kill(process: subprocess.Popen) -> None:
    """End LibreOffice and the processes it started (soffice is a wrapper around soffice.bin)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    process.communicate()
