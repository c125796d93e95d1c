"""eval.convert_qa: a QA set of documents and questions written in BEIR layout, read back by the
eval's own BEIR loader."""

from __future__ import annotations

import json

import pytest

from eval.beir import load_beir
from eval.convert_qa import ConvertError, convert, main, passages

# Two policies, one line each, paragraphs as runs of spaces (as NCPPolicies ships them).
PARA_1 = "各市（州）卫生健康委：为做好疫情防控物资保障工作，现将有关事项通知如下。"
PARA_2 = "一、对生产防控物资的企业给予贷款贴息支持，贴息比例为百分之五十。"
PARA_3 = "二、对参与防控的一线医务人员发放临时性工作补助。"
DOC_A = f"关于支持疫情防控物资生产的通知 {PARA_1}\u3000\u3000{PARA_2}  {PARA_3}"
DOC_B = "某市商务局稳定商务发展若干措施 一、延期缴纳社会保险费。\t二、减免中小企业房租。"


def write_source(tmp_path, docs=None, questions=None):
    docs_file, questions_file = tmp_path / "context.csv", tmp_path / "train.csv"
    docs_file.write_text(
        docs if docs is not None else f"docid\ttext\nA\t{DOC_A}\nB\t{DOC_B}\n", encoding="utf-8"
    )
    questions_file.write_text(
        questions
        if questions is not None
        else "id\tdocid\tquestion\tanswer\n"
        "q1\tA\t贷款贴息比例是多少？\t百分之五十\n"
        "q2\tA\t一线医务人员有什么补助？\t临时性工作补助\n"
        "q3\tB\t房租怎么减免？\t减免中小企业房租\n"
        "q4\tZ\t不在文档里的问题？\t无\n"
        f"q5\tA\t跨段的答案？\t{PARA_1[-6:]}\u3000\u3000{PARA_2[:4]}\n",
        encoding="utf-8",
    )
    return docs_file, questions_file


def test_passages_are_exact_substrings_of_at_least_min_chars_with_the_short_tail_joined():
    cut = passages(DOC_A, min_chars=40)
    assert all(piece in DOC_A for piece in cut)
    assert [len(p) >= 40 for p in cut] == [True] * len(cut)
    assert cut[0].startswith("关于支持") and cut[-1].endswith(PARA_3)
    assert "".join(cut).replace(" ", "").replace("\u3000", "") == DOC_A.replace(" ", "").replace(
        "\u3000", ""
    )
    assert passages(DOC_A, min_chars=10_000) == [DOC_A]  # one passage when the text is short


def test_a_qa_set_converts_to_beir_the_eval_reads(tmp_path):
    docs_file, questions_file = write_source(tmp_path)
    out = tmp_path / "beir"
    done = convert(docs_file, questions_file, out, min_chars=40)

    corpus, queries, qrels = load_beir(out)
    assert done.documents == 2 and done.passages == len(corpus)
    # every passage of a document carries its title, the document's first piece
    assert {doc["title"] for pid, doc in corpus.items() if pid.startswith("A_")} == {
        "关于支持疫情防控物资生产的通知"
    }
    assert {doc["title"] for pid, doc in corpus.items() if pid.startswith("B_")} == {
        "某市商务局稳定商务发展若干措施"
    }
    # a tab inside a document's text (the last column) is kept, not a lost field
    assert any("\t二、减免中小企业房租" in doc["text"] for doc in corpus.values())
    # judged relevant: the passages of the question's document holding its answer
    assert set(queries) == {"q1", "q2", "q3"}
    for qid, answer in (("q1", "百分之五十"), ("q2", "临时性工作补助"), ("q3", "减免中小企业房租")):
        assert qrels[qid] and all(answer in corpus[pid]["text"] for pid in qrels[qid])
    assert (done.not_in_docs, done.answer_split) == (1, 1)  # q4's document is absent; q5 crosses
    assert done.judgments == sum(len(r) for r in qrels.values())


def test_a_title_column_wins_and_a_long_first_piece_is_no_title(tmp_path):
    long_first = "正文" * 60 + " 第二段。"
    docs = f"docid\ttitle\ttext\nA\t自带标题\t{DOC_A}\nB\t\t{long_first}\n"
    questions = "id\tdocid\tquestion\tanswer\nq1\tA\t比例？\t百分之五十\nq2\tB\t第二段？\t第二段\n"
    docs_file, questions_file = write_source(tmp_path, docs, questions)
    convert(docs_file, questions_file, tmp_path / "beir", min_chars=40)
    rows = [json.loads(line) for line in (tmp_path / "beir" / "corpus.jsonl").open("rb")]
    assert {r["title"] for r in rows if r["_id"].startswith("A_")} == {"自带标题"}
    assert {r["title"] for r in rows if r["_id"].startswith("B_")} == {""}


def test_comma_separated_files_with_quoted_fields_convert_too(tmp_path):
    docs = f'docid,text\nA,"{DOC_A}"\n'
    questions = 'id,docid,question,answer\nq1,A,"比例,是多少？",百分之五十\n'
    docs_file, questions_file = write_source(tmp_path, docs, questions)
    convert(docs_file, questions_file, tmp_path / "beir", min_chars=40)
    _, queries, qrels = load_beir(tmp_path / "beir")
    assert queries == {"q1": "比例,是多少？"} and len(qrels["q1"]) == 1


def test_a_missing_column_names_the_file_and_the_column(tmp_path):
    docs_file, questions_file = write_source(tmp_path, questions="id\tdocid\tquestion\nq1\tA\t?\n")
    with pytest.raises(ConvertError, match=r"train\.csv: no column answer"):
        convert(docs_file, questions_file, tmp_path / "beir")


def test_nothing_is_overwritten_and_the_cli_says_why(tmp_path, capsys):
    docs_file, questions_file = write_source(tmp_path)
    out = tmp_path / "beir"
    assert main([str(docs_file), str(questions_file), "--out", str(out), "--min-chars", "40"]) == 0
    assert "2 documents" in capsys.readouterr().out
    before = (out / "corpus.jsonl").read_bytes()
    assert main([str(docs_file), str(questions_file), "--out", str(out)]) == 2
    assert "already holds a corpus.jsonl" in capsys.readouterr().err
    assert (out / "corpus.jsonl").read_bytes() == before
    missing = tmp_path / "absent.csv"
    assert main([str(missing), str(questions_file), "--out", str(tmp_path / "other")]) == 2
    assert "absent.csv: cannot read" in capsys.readouterr().err
