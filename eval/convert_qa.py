"""Convert a question-answering set (documents + questions with their answer) to BEIR layout.

    python -m eval.convert_qa DOCS QUESTIONS --out DIR

DOCS: a delimited file with a header, columns `docid` and `text` (and `title`, optional).
QUESTIONS: columns `id`, `docid`, `question`, `answer`. NCPPolicies ships exactly these
(`NCPPolicies_context_20200301.csv`, `NCPPolicies_train_20200301.csv`, tab-separated despite
the name). A header line holding a tab is read as tab-separated, quotes taken literally;
otherwise as CSV.

What it writes (eval/beir.py reads it):
- passages: each document cut at its whitespace breaks (the texts are one line, with
  paragraphs as runs of spaces), consecutive pieces joined until at least `--min-chars`; a
  short tail joins the passage before. A passage is an exact substring of its document, with
  the id `<docid>_<n>`.
- titles: every passage of a document carries the document's title: the `title` column, else
  its first piece when that is a heading (at most TITLE_MAX characters). A policy's passages
  rarely repeat its title, and questions name it ("工业和信息化部…督导检查"): without titles,
  BM25 nDCG@10 on NCPPolicies is 0.76, with them 0.80 (docs/retrieval-quality.md).
- judgments: a question is relevant (score 1) to every passage of its document that holds its
  answer. Questions whose document is not among DOCS, or whose answer crosses a passage
  boundary, are left out and counted.

Nothing is overwritten: an --out folder that already holds a corpus is an error.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

# 185: on NCPPolicies' 599-document release it gives 3,303 passages of 185-400 characters,
# the 3,314 within 0.3% (and about the 200-400 characters our own chunks hold).
MIN_CHARS = 185
TITLE_MAX = 80  # a first piece longer than this is body text, not a heading
_PIECE = re.compile(r"[^\s\u3000\xa0]+")  # text between breaks
# a document is one field; sys.maxsize overflows the C long csv keeps on Windows
_FIELD_LIMIT = 2**31 - 1
_REST = "\0rest"  # csv.DictReader's key for fields past the header's


class ConvertError(ValueError):
    """A source file that cannot be converted; the message names the file."""


@dataclass(frozen=True)
class Converted:
    documents: int
    passages: int
    questions: int  # written, each with at least one judgment
    judgments: int
    not_in_docs: int  # questions whose document is not among DOCS
    answer_split: int  # questions whose answer is in no single passage

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.passages} passages, {self.questions} questions, "
            f"{self.judgments} judgments; left out: {self.not_in_docs} questions whose document "
            f"is not in the documents file, {self.answer_split} whose answer crosses a passage "
            "boundary"
        )


def read_table(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a delimited file with a header, as dicts; a missing column is an error."""
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = f.readline()
            f.seek(0)
            tabs = "\t" in header
            if tabs:
                reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE, restkey=_REST)
            else:
                reader = csv.DictReader(f, restkey=_REST)
            columns = reader.fieldnames or []
            missing = [c for c in required if c not in columns]
            if missing:
                raise ConvertError(
                    f"{path}: no column {', '.join(missing)} "
                    f"(the header has: {', '.join(columns) or 'nothing'})"
                )
            return [_row(row, columns[-1], tabs) for row in reader if row.get(required[0])]
    except OSError as e:
        raise ConvertError(f"{path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise ConvertError(f"{path}: not UTF-8 text") from None


def _row(row: dict, last: str, tabs: bool) -> dict[str, str]:
    """A row's fields as strings. In a tab-separated file a tab inside the last column (a
    document's text) splits it: the pieces are joined back, not dropped."""
    rest = row.pop(_REST, None)
    if rest and tabs:
        row[last] = "\t".join([row[last] or "", *rest])
    return {k: (v or "") for k, v in row.items()}


def passages(text: str, min_chars: int = MIN_CHARS) -> list[str]:
    """The document cut at its breaks, pieces joined until at least min_chars; exact
    substrings of text, in order."""
    spans: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for piece in _PIECE.finditer(text):
        current = piece.span() if current is None else (current[0], piece.end())
        if current[1] - current[0] >= min_chars:
            spans.append(current)
            current = None
    if current is not None:  # a short tail joins the passage before
        if spans:
            spans[-1] = (spans[-1][0], current[1])
        else:
            spans.append(current)
    return [text[start:end] for start, end in spans]


def title_of(doc: dict[str, str]) -> str:
    """The document's title column, else its first piece when short enough to be a heading."""
    if doc.get("title", "").strip():
        return doc["title"].strip()
    first = _PIECE.search(doc["text"])
    return first.group() if first and len(first.group()) <= TITLE_MAX else ""


def convert(
    docs_path: Path, questions_path: Path, out: Path, min_chars: int = MIN_CHARS
) -> Converted:
    if (out / "corpus.jsonl").exists():
        raise ConvertError(f"{out}: already holds a corpus.jsonl; choose an empty folder")
    docs = read_table(docs_path, ("docid", "text"))
    questions = read_table(questions_path, ("id", "docid", "question", "answer"))
    corpus: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for doc in docs:
        corpus.setdefault(doc["docid"], passages(doc["text"], min_chars))
        titles.setdefault(doc["docid"], title_of(doc))
    kept: list[tuple[str, str, list[str]]] = []
    not_in_docs = answer_split = 0
    for q in questions:
        if q["docid"] not in corpus:
            not_in_docs += 1
            continue
        answer = q["answer"].strip()
        relevant = [
            f"{q['docid']}_{n}" for n, text in enumerate(corpus[q["docid"]]) if answer in text
        ]
        if not answer or not relevant:
            answer_split += 1
            continue
        kept.append((q["id"], q["question"].strip(), relevant))
    _write(out, corpus, titles, kept)
    return Converted(
        documents=len(corpus),
        passages=sum(len(p) for p in corpus.values()),
        questions=len(kept),
        judgments=sum(len(r) for _, _, r in kept),
        not_in_docs=not_in_docs,
        answer_split=answer_split,
    )


def _write(
    out: Path,
    corpus: dict[str, list[str]],
    titles: dict[str, str],
    kept: list[tuple[str, str, list[str]]],
) -> None:
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for docid, texts in corpus.items():
            for n, text in enumerate(texts):
                row = {"_id": f"{docid}_{n}", "title": titles[docid], "text": text}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        for qid, question, _ in kept:
            f.write(json.dumps({"_id": qid, "text": question}, ensure_ascii=False) + "\n")
    with (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, _, relevant in kept:
            f.writelines(f"{qid}\t{pid}\t1\n" for pid in relevant)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.convert_qa",
        description="Convert a QA set (documents + questions with answers) to BEIR layout "
        "for python -m eval --beir DIR.",
        epilog="example: python -m eval.convert_qa NCPPolicies_context_20200301.csv "
        "NCPPolicies_train_20200301.csv --out ~/beir/ncppolicies",
    )
    parser.add_argument("docs", type=Path, help="documents: columns docid, text (title)")
    parser.add_argument("questions", type=Path, help="questions: id, docid, question, answer")
    parser.add_argument("--out", type=Path, required=True, help="the BEIR folder to write")
    parser.add_argument(
        "--min-chars", type=int, default=MIN_CHARS, help=f"shortest passage (default {MIN_CHARS})"
    )
    args = parser.parse_args(argv)
    try:
        done = convert(args.docs, args.questions, args.out.expanduser(), args.min_chars)
    except ConvertError as e:
        print(f"错误 / error: {e}", file=sys.stderr)
        return 2
    print(f"{args.out}: {done.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
