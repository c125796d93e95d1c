"""The times a passage's text names, extracted at ingest (issue 12): saved with the filter
columns they equal what the question-time parser reads from each text, and an index saved
without them (or without any columns) answers exactly as one saved with them."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from answer.ask import DEFAULT_POLICY, _inside, ask, text_times
from answer.dates import find_date_ranges, normalise
from index.engine import SearchEngine
from index.store import CHECKSUMS, COLUMNS, IndexDamagedError, file_checksums, load_stored
from index.text_dates import OPEN, TextDates, day_number
from ingest import time_expressions
from ingest.time_expressions import absolute_times
from test_rows_file import as_before_the_row_files


def question_parser_times(text: str):
    """What answer/ask.text_times computed before the extraction moved to ingest."""
    found = find_date_ranges(normalise(text), date(2000, 1, 1))
    return tuple((r.date_from, r.date_to) for r in found if not r.relative)


TEXTS = [
    "2022年10月召开全省年鉴质量提升工作会",
    "总结2023年工作，部署2024年任务",
    "自2021年以来，累计出版年鉴12部；到2027年实现全覆盖",
    "二〇二二年十月，达州市召开会议",
    "２０２３年７月１０日至１５日，分赴江苏",
    "2022年卷《成都年鉴》、2022年鉴，去年以来",
    "10月10日，达州市地方志办召开专题会议",  # no year: no absolute time
    "去年上半年、近两年",  # relative only
    "2020—2022年，2019年以前，2023-07-01",
    "",
]


def test_absolute_times_equal_the_question_parser():
    for text in TEXTS:
        assert absolute_times(text) == question_parser_times(text), text


def test_rules_skipped_for_a_missing_word_could_not_have_matched(monkeypatch):
    texts = TEXTS + [
        "2023年第一季度、2022年上半年，今年下半年、去年第三季度",
        "Q1 2023, the first half of 2022, last year, since March 2021",
        "ſept 2022",  # "ſ" matches "s" case-insensitively
        "2020-2022年，2021年",
    ]
    anchor = date(2024, 3, 13)
    RULES = time_expressions._RULES
    skipping = [time_expressions.find_times(normalise(t), anchor) for t in texts]
    every_rule = [(rule, handler, ranged, None) for rule, handler, ranged, _ in RULES]
    monkeypatch.setattr(time_expressions, "_RULES", every_rule)
    assert [time_expressions.find_times(normalise(t), anchor) for t in texts] == skipping
    assert all(skipping[-4:])


def test_letters_the_rules_match_case_insensitively_read_like_ascii():
    """ "ſ", "K", "İ", "ı" match s, k, i case-insensitively: such a passage is read, not a crash."""
    anchor = date(2024, 3, 13)
    for odd, plain in (
        ("ſept 2022", "sept 2022"),
        ("the firſt half of 2022", "the first half of 2022"),
        ("laſt year", "last year"),
        ("the paſt ſix months", "the past six months"),
        ("untİl 2020", "until 2020"),
    ):
        got = [(t.date_from, t.date_to) for t in time_expressions.find_times(odd, anchor)]
        assert got == [(t.date_from, t.date_to) for t in time_expressions.find_times(plain, anchor)]
        assert got, odd


@pytest.fixture(scope="module")
def stored(fake_index):
    return load_stored(fake_index[0])


def test_saved_times_equal_text_times_for_every_passage(stored):
    saved = stored.columns.text_dates
    chunks = list(stored.chunks)
    assert saved is not None and saved.size == len(chunks)
    for row, chunk in enumerate(chunks):
        assert saved.times(row) == text_times(chunk.text), chunk.chunk_id
        assert saved.times(row) == question_parser_times(chunk.text), chunk.chunk_id
    assert saved.offsets[-1] > 10  # the samples name many times: the test is not empty


def test_day_numbers_order_like_iso_dates():
    isos = ["1999-12-31", "2000-01-01", "2022-09-30", "2022-10-01", "2024-02-29"]
    assert [day_number(d) for d in isos] == sorted(day_number(d) for d in isos)
    assert day_number("2022-10-01") == 20221001 and day_number(None) == OPEN


def random_times(rng, rows: int):
    per_row = []
    for _ in range(rows):
        times = []
        for _ in range(rng.integers(0, 4)):
            low, high = sorted(rng.integers(0, 3000, size=2).tolist())
            start = (date(2018, 1, 1).toordinal() + low) if rng.random() > 0.15 else None
            end = (date(2018, 1, 1).toordinal() + high) if rng.random() > 0.15 else None
            times.append(
                (
                    date.fromordinal(start).isoformat() if start else None,
                    date.fromordinal(end).isoformat() if end else None,
                )
            )
        per_row.append(tuple(times))
    return per_row


_ASKED = find_date_ranges("2020年", date(2024, 1, 1))[0]  # a DateRange to vary


@pytest.mark.parametrize("seed", range(10))
def test_naming_within_equals_the_per_row_check(seed):
    rng = np.random.default_rng(seed)
    per_row = random_times(rng, 200)
    column = TextDates.from_times(per_row)
    assert [column.times(r) for r in range(200)] == per_row
    for asked in (
        ("2020-01-01", "2020-12-31"),
        ("2019-07-01", None),
        (None, "2021-06-30"),
        (None, None),
        ("2022-03-05", "2022-03-05"),
    ):
        span = replace(_ASKED, date_from=asked[0], date_to=asked[1])
        rows = np.sort(rng.choice(200, size=rng.integers(0, 200), replace=False))
        expected = [any(_inside(span, low, high) for low, high in per_row[r]) for r in rows]
        assert column.naming_within(rows, *asked).tolist() == expected


def test_concat_shifts_the_offsets():
    per_row = random_times(np.random.default_rng(7), 60)
    parts = [TextDates.from_times(per_row[:25]), TextDates.from_times(per_row[25:])]
    whole, joined = TextDates.from_times(per_row), TextDates.concat(parts)
    for name in ("offsets", "low", "high"):
        assert np.array_equal(getattr(joined, name), getattr(whole, name))
    assert TextDates.concat([]).size == 0


def with_columns(index_dir, target, change):
    """A copy of the index whose columns.npz arrays went through change(arrays) (checksums
    updated, so only the arrays differ)."""
    shutil.copytree(index_dir, target)
    with np.load(target / COLUMNS, allow_pickle=False) as saved:
        arrays = change(dict(saved))
    with open(target / COLUMNS, "wb") as handle:
        np.savez(handle, **arrays)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest[CHECKSUMS][COLUMNS] = file_checksums(target)[COLUMNS]
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    return target


def without_text_dates(index_dir, target):
    """The same index as the version before saved it: columns.npz without the texts' times."""
    return with_columns(
        index_dir,
        target,
        lambda arrays: {k: v for k, v in arrays.items() if not k.startswith("text_dates.")},
    )


def test_times_that_do_not_fit_the_passages_are_damage(fake_index, tmp_path):
    def drop_last(arrays):
        return {**arrays, "text_dates.low": arrays["text_dates.low"][:-1]}

    damaged = with_columns(fake_index[0], tmp_path / "damaged", drop_last)
    with pytest.raises(IndexDamagedError, match="text_dates"):
        load_stored(damaged)


QUESTIONS = [
    "2022年10月全省年鉴质量提升工作会",
    "总结2023年工作",
    "2023年以来宣汉县",
    "去年各地年鉴工作",
    "达州2022年在年鉴质量上做了什么",
    "哪些市州2023年召开了地方志工作会议",
    "2024年3月哪些地方召开了地方志工作会议",
    "2020年以前的旧志整理",
]
POLICIES = [
    DEFAULT_POLICY,
    replace(DEFAULT_POLICY, date="filter"),
    replace(DEFAULT_POLICY, place="filter", date="filter"),
    replace(DEFAULT_POLICY, undated="separate"),
]


# without_text_dates: columns saved before the texts' times; as_before_the_row_files: no columns
# at all (built on first use, without the texts' times)
@pytest.mark.parametrize("older", [without_text_dates, as_before_the_row_files])
def test_an_index_without_the_saved_times_answers_the_same(fake_index, tmp_path, older):
    index_dir, embedder = fake_index
    new = SearchEngine.open(index_dir, embedder=embedder)
    old = SearchEngine.open(older(index_dir, tmp_path / "old"), embedder=embedder)
    assert new.columns.built.text_dates is not None and old.columns.built.text_dates is None
    for question in QUESTIONS:
        for policy in POLICIES:
            got, expected = ask(new, question, policy=policy), ask(old, question, policy=policy)
            assert got == expected, (question, policy)
    mentioned = [
        h.why["understanding"]["date"]
        for q in QUESTIONS
        for h in ask(new, q, k=20).ranked()
        if h.why["understanding"]["date"] == "mentioned"
    ]
    assert mentioned  # the questions reach passages that only name the asked time
