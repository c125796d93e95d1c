"""A .zip of bulletins, read member by member.

Each supported member becomes a source of its own, named like a file inside a
folder ("简报合集.zip/2024/第3期.pdf"), so reports and citations say which member
a passage came from. Limits guard against archives that are not what they seem:
a member's size (the same per-file limit as on disk), the number of members and
their total size (zip bombs), and names that would climb out of the archive
("../", absolute paths), which are refused. Nested archives are not opened.

Names: Windows writes Chinese member names in GBK without the UTF-8 flag; Python
then decodes them as cp437, which would give mojibake. They are decoded again.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ingest.errors import DamagedFileError, EncryptedFileError, FileTooLargeError, IngestError
from ingest.loading import read_file_bytes, too_large_reason

MAX_MEMBERS = 5000
MAX_TOTAL_BYTES = 2 * 2**30  # uncompressed, all members together
_UTF8_FLAG = 0x800


@dataclass(frozen=True)
class Member:
    key: str  # "ARCHIVE.zip/inner/path.txt": how the index and the report name it
    data: bytes


@dataclass
class ArchiveContents:
    members: list[Member] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (key, reason): members not read
    # (key, reason): not a supported format
    skipped: list[tuple[str, str]] = field(default_factory=list)


def is_archive(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def member_key(archive: Path | str, name: str) -> str:
    return f"{archive}/{name}"


def archive_of(key: str | Path) -> Path | None:
    """The .zip a member key points into, whether or not it is still there (None for a
    plain file path; a folder that happens to end in .zip is a folder)."""
    for parent in Path(key).parents:
        if is_archive(parent) and not parent.is_dir():
            return parent
    return None


def read_archive(path: Path, supported: tuple[str, ...], max_bytes: int | None) -> ArchiveContents:
    """The archive's supported members with their bytes; an IngestError when the archive
    itself cannot be read."""
    data = read_file_bytes(path, None if max_bytes is None else max(max_bytes, MAX_TOTAL_BYTES))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DamagedFileError(
            str(path), f"ZIP 压缩包已损坏 / damaged ZIP archive ({exc})"
        ) from None
    contents = ArchiveContents()
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise IngestError(
                str(path),
                f"压缩包内文件过多（{len(infos)} 个，上限 {MAX_MEMBERS}）/ too many members "
                f"({len(infos)} > {MAX_MEMBERS}); extract it and ingest the folder",
            )
        total = 0
        for info in infos:
            key = _member_to_read(path, info, supported, max_bytes, contents)
            if key is None:
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                contents.problems.append(
                    (
                        key,
                        "压缩包解压后过大，其余成员未读取 / archive too large when extracted; "
                        "the remaining members were not read",
                    )
                )
                break
            try:
                contents.members.append(Member(key, _read_member(archive, info, key, max_bytes)))
            except IngestError as exc:
                contents.problems.append((key, exc.reason))
    return contents


def _member_to_read(
    path: Path,
    info: zipfile.ZipInfo,
    supported: tuple[str, ...],
    max_bytes: int | None,
    contents: ArchiveContents,
) -> str | None:
    """The member's key when it is to be read; None when not, with the reason in contents
    (unsafe path or too large: a problem; unsupported type: skipped; hidden: silently)."""
    name = _decoded_name(info)
    safe = _safe_name(name)
    if safe is None:
        contents.problems.append(
            (
                member_key(path, name),
                "成员路径不安全（含 .. 或绝对路径），未读取 / unsafe member path, not read",
            )
        )
        return None
    key = member_key(path, safe)
    suffix = PurePosixPath(safe).suffix.lower()
    if PurePosixPath(safe).name.startswith((".", "~$")) or suffix not in supported:
        if not PurePosixPath(safe).name.startswith((".", "~$")):
            contents.skipped.append(
                (
                    key,
                    f"不支持的文件类型 {suffix or '（无扩展名）'}，未索引 / unsupported "
                    "file type, not indexed",
                )
            )
        return None
    if max_bytes is not None and info.file_size > max_bytes:
        contents.problems.append(
            (key, FileTooLargeError(key, too_large_reason(info.file_size, max_bytes)).reason)
        )
        return None
    return key


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, max_bytes: int | None
) -> bytes:
    if info.flag_bits & 0x1:
        raise EncryptedFileError(
            key, "压缩包成员已加密 / the member is encrypted (password-protected ZIP)"
        )
    try:
        with archive.open(info) as handle:
            # The header's size can lie (a zip bomb): never read past the limit.
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise DamagedFileError(key, f"无法解压 / cannot extract ({exc})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise FileTooLargeError(key, too_large_reason(len(data), max_bytes))
    return data


def _decoded_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _safe_name(name: str) -> str | None:
    """The member's path inside the archive, or None when it would leave it."""
    name = name.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ":" in parts[0] or ".." in parts:
        return None
    return "/".join(part for part in parts if part not in ("", "."))
