"""Encodings detected, never mojibake; bad files named with the reason."""

import pytest

from ingest.errors import DecodeError, EmptyFileError, IngestError
from ingest.loading import decode_bytes, read_text_file

SAMPLE = "四川省地方志工作办公室 2020年 7月 20日\n【特别关注】\n精品年鉴品读季活动走深走实"


@pytest.mark.parametrize(
    "encoding,expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_encodings_detected(encoding, expected):
    text, used = decode_bytes(SAMPLE.encode(encoding), "x.txt")
    assert text == SAMPLE
    assert used == expected


def test_crlf_normalised():
    assert decode_bytes("甲\r\n乙".encode(), "x.txt")[0] == "甲\n乙"


@pytest.mark.parametrize(
    "data,error",
    [
        (b"", EmptyFileError),
        (b" \n\t\n", EmptyFileError),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, DecodeError),
        (bytes(range(128, 256)) * 20, DecodeError),
    ],
)
def test_bad_bytes_rejected_with_reason(data, error):
    with pytest.raises(error) as info:
        decode_bytes(data, "bad.txt")
    assert str(info.value).startswith("bad.txt: ")


def test_damaged_utf8_is_reported_not_decoded_as_gbk():
    data = SAMPLE.encode("utf-8")
    damaged = data[:20] + b"\xff" + data[21:]
    with pytest.raises(DecodeError, match="UTF-8"):
        decode_bytes(damaged, "damaged.txt")


def test_truncated_last_character_is_dropped():
    data = SAMPLE.encode("utf-8")
    text, _ = decode_bytes(data[:-1], "cut.txt")
    assert text == SAMPLE[:-1]


def test_read_text_file_reports_missing_file(tmp_path):
    with pytest.raises(IngestError, match="file not found"):
        read_text_file(tmp_path / "nope.txt")


def test_read_text_file_hashes_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(SAMPLE.encode("gbk"))
    loaded = read_text_file(path)
    assert loaded.encoding == "gb18030" and len(loaded.sha256) == 64 and loaded.text == SAMPLE
