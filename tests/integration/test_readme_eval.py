"""Every `python -m eval` command in the README, run as written: the index is the one
$BULLETIN_INDEX_DIR names (as a user sets it), `~/qa/…` are a small QA set's documents and
questions the test writes, `~/beir/…` the BEIR-layout folder the README's `eval.convert_qa`
line makes of them (written by the test when the README has none), and `reports/eval-…` is
the report the first command wrote."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_eval_floor import NOT_FOUND_KEPT_FLOOR, REPLY_EVIDENCE_FLOOR

from conftest import ROOT
from eval.beir import load_beir
from eval.gold import load_questions
from eval.replies import load_reply_questions

pytestmark = pytest.mark.slow

COMMAND = re.compile(r"^\.venv/bin/python (-m eval\b[^#]*)", re.MULTILINE)
REPORT = re.compile(r"report: (\S+)/report\.md")  # a full report (--only-replies writes less)

PASSAGES = {
    "p1": ("年鉴质量", "达州市加强年鉴质量管理，严格执行年鉴编纂审查验收制度。"),
    "p2": ("方志馆", "四川省方志馆周二至周日对公众免费开放，馆内展出历代旧志。"),
    "p3": ("地方志工作会议", "全省地方志工作会议在成都召开，部署第三轮修志规划工作。"),
    "p4": ("旧志整理", "旧志整理出版工作稳步推进，完成明清旧志点校二十部。"),
}
QUERIES = {"q1": "年鉴编纂审查验收制度", "q2": "方志馆开放时间", "q3": "第三轮修志规划"}


def readme_eval_commands() -> list[list[str]]:
    """The arguments after `.venv/bin/python` of each README line that runs the eval."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [shlex.split(found) for found in COMMAND.findall(text)]


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    lines = [
        json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=False)
        for i, (t, x) in PASSAGES.items()
    ]
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = [json.dumps({"_id": i, "text": x}, ensure_ascii=False) for i, x in QUERIES.items()]
    (folder / "queries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\tp1\t1\nq2\tp2\t1\nq3\tp3\t1\n", encoding="utf-8"
    )
    return folder


def write_qa(folder: Path) -> Path:
    """The passages above as a QA set's two files (eval.convert_qa's input): one document each,
    its title first; each question's answer is its passage's text."""
    folder.mkdir(parents=True)
    docs = "".join(f"{i}\t{t} {x}\n" for i, (t, x) in PASSAGES.items())
    (folder / "docs.tsv").write_text("docid\ttext\n" + docs, encoding="utf-8")
    rows = "".join(f"{q}\tp{q[1]}\t{x}\t{PASSAGES[f'p{q[1]}'][1]}\n" for q, x in QUERIES.items())
    (folder / "questions.tsv").write_text("id\tdocid\tquestion\tanswer\n" + rows, encoding="utf-8")
    return folder


def as_run(args: list[str], beir: Path, last_report: str | None, qa: Path) -> list[str]:
    """The README's placeholders made real: ~/qa/… (documents first), ~/beir/… and
    reports/eval-…."""
    out, qa_files = [], iter(("docs.tsv", "questions.tsv"))
    for arg in args:
        if arg.startswith("~/qa/"):
            arg = str(qa / next(qa_files))
        elif arg.startswith("~/beir/"):
            arg = str(beir)
        elif arg.startswith("reports/eval-"):
            assert last_report, "the README compares with a report written before"
            arg = last_report
        out.append(arg)
    return out


@pytest.mark.timeout(1800)  # three whole evaluations (the plain one, --compare, --distractors)
def test_every_readme_eval_command_works_as_written(real_index, tmp_path):
    commands = readme_eval_commands()
    flags = {tuple(a for a in c if a.startswith("--")) for c in commands}
    assert {(), ("--only-replies",), ("--compare",), ("--beir",), ("--distractors",)} <= flags
    assert ["-m", "eval.convert_qa"] in [c[:2] for c in commands]
    qa, beir = write_qa(tmp_path / "qa"), tmp_path / "beir"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "BULLETIN_INDEX_DIR": str(real_index)}
    last_report = None
    for command in commands:
        uses_beir = any(a.startswith("~/beir/") for a in command)
        if uses_beir and command[:2] != ["-m", "eval.convert_qa"] and not beir.exists():
            write_beir(beir)  # the README converts none before using it
        run = subprocess.run(
            [sys.executable, *as_run(command, beir, last_report, qa)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        shown = " ".join(command)
        assert run.returncode == 0, f"{shown}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
        written = REPORT.search(run.stdout)
        if command[:2] == ["-m", "eval.convert_qa"]:
            assert "4 documents, 4 passages, 3 questions, 3 judgments" in run.stdout, shown
            corpus, _, qrels = load_beir(beir)
            assert corpus["p1_0"]["title"] == "年鉴质量" and qrels["q1"] == {"p1_0": 1}
        elif "--beir" in command:
            assert "ndcg@10" in run.stdout and "hybrid" in run.stdout, shown
        elif "--only-replies" in command:
            assert "answered right" in run.stdout, shown
        else:
            assert written, f"{shown} names its report\n{run.stdout[-1500:]}"
            last_report = last_report or written.group(1)
        if "--compare" in command:
            assert "Compared with" in run.stdout, shown
        if "--distractors" in command:
            assert "4 distractor documents" in run.stdout, shown
        if command == ["-m", "eval"]:  # the plain `python -m eval`: the whole report
            assert_full_report(Path(written.group(1)), run.stdout)


def assert_full_report(folder: Path, printed: str) -> None:
    assert "recall@5" in printed and "no-answer" in printed
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["modes"]) == {"bm25", "dense", "hybrid", "hybrid+u"}
    assert summary["no_answer"]["bm25_top_score"]["threshold"] is not None
    assert summary["answers"]["answer_has_evidence"] >= REPLY_EVIDENCE_FLOOR
    assert summary["no_answer"]["rule"]["answerable_kept"] >= NOT_FOUND_KEPT_FLOOR
    assert summary["answers"]["unanswerable_no_reply"] >= 0.4
    assert (folder / "modes.png").read_bytes()[:4] == b"\x89PNG"
    rows = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 4 * len(load_questions())
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "Web chat replies" in report and "## Replies" in report and "coverage floor" in report
    replies = (folder / "replies.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(replies) == len(load_reply_questions())
