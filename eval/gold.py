"""Questions and their gold evidence; judging a ranked list against it.

Gold answers are evidence strings matched whitespace-insensitively, so they
survive any re-chunking: a retrieved passage is right when it contains one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from index.store import read_jsonl

QUESTIONS = Path(__file__).resolve().parent / "questions" / "dev.jsonl"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Question:
    id: str
    query: str
    kind: str
    evidence: tuple[str, ...]
    # finer groups for reporting: county, english_place, relative_date, precedent…
    tags: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def squeeze(text: str) -> str:
    return _SPACE.sub("", text)


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    rows = read_jsonl(path)
    return [
        Question(
            r["id"],
            r["query"],
            r["kind"],
            tuple(r.get("evidence") or ()),
            tuple(r.get("tags") or ()),
        )
        for r in rows
    ]


def evidence_found(texts: list[str], evidence: tuple[str, ...]) -> list[set[int]]:
    """For each ranked passage, the indices of the evidence strings it contains."""
    wanted = [squeeze(e) for e in evidence]
    return [{i for i, e in enumerate(wanted) if e in squeeze(text)} for text in texts]


ANSWER_PREFIX = 20  # characters of evidence that must appear verbatim in an answer


def answer_supports(answer: str, evidence: tuple[str, ...]) -> bool:
    """Does an extractive answer carry the evidence? Whole, or its first ANSWER_PREFIX
    characters (the answer may stop at a sentence end inside a long evidence string)."""
    text = squeeze(answer)
    return any(squeeze(e)[:ANSWER_PREFIX] in text for e in evidence)
