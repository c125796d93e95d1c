"""Checks for the retrieval-evaluation question set eval/questions/dev.jsonl.

Standard library only. Evidence strings are matched whitespace-insensitively:
all whitespace is removed from the evidence and from each bulletin before
counting, and every evidence must occur exactly once over all bulletins.
"""

from __future__ import annotations

import json
import re
import unittest

from conftest import ROOT

QUESTIONS = ROOT / "eval" / "questions" / "dev.jsonl"
BULLETINS = ROOT / "data" / "bulletins"

KINDS = {"fact", "place", "date", "precedent", "english", "no_answer"}
REQUIRED = ("id", "query", "kind", "evidence", "note")
MIN_QUESTIONS = 80
MIN_NO_ANSWER = 10

_WS = re.compile(r"\s+")


def _strip_ws(text: str) -> str:
    return _WS.sub("", text)


def load_questions() -> list[dict]:
    rows = []
    with QUESTIONS.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - message only
                raise AssertionError(
                    f"{QUESTIONS.name} line {lineno}: invalid JSON: {exc}"
                ) from exc
    return rows


def load_corpus() -> dict[str, str]:
    files = sorted(BULLETINS.glob("*.txt"))
    assert files, f"no bulletins found in {BULLETINS}"
    return {p.name: _strip_ws(p.read_bytes().decode("utf-8")) for p in files}


class EvalQuestionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.rows = load_questions()
        cls.corpus = load_corpus()

    def test_enough_questions(self) -> None:
        self.assertGreaterEqual(len(self.rows), MIN_QUESTIONS, "too few questions")

    def test_required_fields_and_types(self) -> None:
        for i, r in enumerate(self.rows, 1):
            qid = r.get("id", f"<line {i}>")
            for key in REQUIRED:
                self.assertIn(key, r, f"{qid}: missing field {key!r}")
            self.assertIsInstance(r["id"], str, f"{qid}: id must be a string")
            self.assertIsInstance(r["query"], str, f"{qid}: query must be a string")
            self.assertTrue(r["query"].strip(), f"{qid}: empty query")
            self.assertIsInstance(r["note"], str, f"{qid}: note must be a string")
            self.assertIsInstance(r["evidence"], list, f"{qid}: evidence must be a list")
            for ev in r["evidence"]:
                self.assertIsInstance(ev, str, f"{qid}: evidence {ev!r} must be a string")
                self.assertTrue(_strip_ws(ev), f"{qid}: empty evidence string")

    def test_unique_ids(self) -> None:
        seen: dict[str, int] = {}
        for i, r in enumerate(self.rows, 1):
            qid = r.get("id")
            self.assertNotIn(qid, seen, f"duplicate id {qid} (lines {seen.get(qid)} and {i})")
            seen[qid] = i

    def test_valid_kinds(self) -> None:
        for r in self.rows:
            self.assertIn(r.get("kind"), KINDS, f"{r.get('id')}: invalid kind {r.get('kind')!r}")

    def test_no_answer_questions(self) -> None:
        no_answer = [r for r in self.rows if r.get("kind") == "no_answer"]
        self.assertGreaterEqual(len(no_answer), MIN_NO_ANSWER, "too few no_answer questions")
        for r in no_answer:
            self.assertEqual(
                r.get("evidence"), [], f"{r.get('id')}: no_answer question must have empty evidence"
            )

    def test_answerable_questions_have_evidence(self) -> None:
        for r in self.rows:
            if r.get("kind") != "no_answer":
                self.assertTrue(
                    r.get("evidence"), f"{r.get('id')}: answerable question has no evidence"
                )

    def test_evidence_occurs_exactly_once(self) -> None:
        problems = []
        for r in self.rows:
            for ev in r.get("evidence") or []:
                needle = _strip_ws(ev)
                if not needle:
                    continue
                hits = {name: text.count(needle) for name, text in self.corpus.items()}
                total = sum(hits.values())
                if total != 1:
                    where = {k: v for k, v in hits.items() if v} or "nowhere"
                    problems.append(
                        f"{r.get('id')}: evidence {ev!r} occurs {total} times ({where})"
                    )
        self.assertFalse(problems, "\n" + "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
