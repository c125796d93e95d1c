"""Retrieval quality must not drop: the dev-set eval with the bundled model, against a floor.

Floors = the values measured when they were set (README, "Retrieval quality") minus 0.03.
They were reset when issue 5 added 52 harder questions (place + date, a city's counties,
English place names, relative dates, precedent lists): plain hybrid itself did not change.
"""

import pytest

from answer.ask import DEFAULT_POLICY
from chat.service import Assistant
from eval.__main__ import evaluate
from eval.gold import load_questions
from eval.metrics import mrr_at, ndcg_at, recall_at
from eval.precedent import precedent_completeness
from eval.replies import load_reply_questions, reply_quality
from eval.report import best_threshold
from index.engine import SearchEngine

pytestmark = pytest.mark.slow
HYBRID_RECALL5_FLOOR = 0.918  # measured 0.948 (172 questions; 0.977 on the first 120)
HYBRID_MRR10_FLOOR = 0.898  # measured 0.928
UNDERSTOOD_RECALL5_FLOOR = 0.936  # hybrid+u, measured 0.966
UNDERSTOOD_MRR10_FLOOR = 0.922  # hybrid+u, measured 0.952
UNDERSTOOD_PLACE_MRR10_FLOOR = 0.959  # hybrid+u on place questions, measured 0.989 (plain 0.916)
# Precedent lists count only reports with a sentence doing the asked action (issue 11); the
# dev set's gold is looser (reports about the topic), so counted completeness fell from 0.963
# to 0.926 while not-gold reports fell from 3.9 to 1.05 a question; the rest are shown as
# related when they are about the topic (0.963 counted or related).
PRECEDENT_COMPLETENESS_FLOOR = 0.896  # counted, measured 0.926
PRECEDENT_SHOWN_FLOOR = 0.933  # counted or related, measured 0.963
PRECEDENT_NON_GOLD_CEILING = 1.5  # non-gold counted reports per precedent question, measured 1.05
# measured 0.934 (172 questions): web chat replies that carry gold evidence
REPLY_EVIDENCE_FLOOR = 0.904
# measured 1.0: answerable dev questions not refused by the not-found decision
NOT_FOUND_KEPT_FLOOR = 0.97
# The reply questions (eval/questions/replies.jsonl, 88: dev and test splits together),
# measured minus 0.03 (off-topic: plus 0.03; precedent: minus 0.05, few questions)
REPLY_FLOORS = {
    "answered_right": 0.913,  # measured 0.943
    "found_when_answerable": 0.97,  # measured 1.0
    "not_found_when_unanswerable": 0.97,  # measured 1.0
    "precedent_precision": 0.95,  # measured 1.0
    "precedent_recall": 0.95,  # measured 1.0
}
OFF_TOPIC_CEILING = 0.05  # measured 0.019 (the bound)


def test_hybrid_quality_above_floor(real_index):
    engine = SearchEngine.open(real_index)
    overall, by_kind, _, rows = evaluate(engine, load_questions(), "hybrid")
    assert overall["recall@5"] >= HYBRID_RECALL5_FLOOR, overall
    assert overall["mrr@10"] >= HYBRID_MRR10_FLOOR, overall
    assert {"fact", "place", "date", "precedent", "english"} <= set(by_kind)
    assert all(r["results"] for r in rows if r["answerable"])


def test_understanding_beats_plain_hybrid_and_stays_above_floor(real_index):
    engine = SearchEngine.open(real_index)
    questions = load_questions()
    plain, plain_kinds, _, _ = evaluate(engine, questions, "hybrid")
    understood, kinds, _, rows = evaluate(engine, questions, "hybrid+u")
    assert understood["recall@5"] >= UNDERSTOOD_RECALL5_FLOOR, understood
    assert understood["mrr@10"] >= UNDERSTOOD_MRR10_FLOOR, understood
    assert kinds["place"]["mrr@10"] >= UNDERSTOOD_PLACE_MRR10_FLOOR, kinds["place"]
    assert (
        understood["mrr@10"] > plain["mrr@10"]
        and kinds["place"]["mrr@10"] > plain_kinds["place"]["mrr@10"]
    )
    assert all(r["results"] for r in rows if r["answerable"])


def test_precedent_lists_are_nearly_complete(real_index):
    engine = SearchEngine.open(real_index)
    data = precedent_completeness(
        engine, load_questions(), "hybrid", DEFAULT_POLICY, sweep=(0.5, 0.7)
    )
    assert data["questions"] >= 20 and data["gold"] >= 80
    assert data["completeness"] >= PRECEDENT_COMPLETENESS_FLOOR, data["per_question"]
    assert data["completeness_shown"] >= PRECEDENT_SHOWN_FLOOR, data["per_question"]
    assert data["non_gold_per_question"] <= PRECEDENT_NON_GOLD_CEILING
    # far less noise than reading the plain top 10, and almost nothing hidden that it shows:
    # the plain top 10 finds 3 gold reports that the list shows neither counted nor
    # related (q085 阿坝's 贯彻落实会议, q166 扶贫开发志…村志, q169 成都's 至少推荐报送1篇): their
    # wording lacks the asked action and their score is under the list's threshold. Measured
    # 0.963 against the plain top 10's 0.975 (it was 0.963 against 0.963 with weighted fusion,
    # the same 3 missed then too).
    assert data["non_gold"] * 3 < data["baseline"]["non_gold"]
    assert data["completeness_shown"] >= data["baseline"]["completeness"] - 0.04
    low, high = data["sweep"]
    assert low["completeness"] >= high["completeness"] and low["returned"] >= high["returned"]


def test_replies_above_floor(real_index):
    """What staff read, judged on the reply questions (see eval/replies.py)."""
    assistant = Assistant.open(real_index, watch=False)
    summary, rows = reply_quality(assistant, load_reply_questions())
    measured = summary["all"]
    for key, floor in REPLY_FLOORS.items():
        assert measured[key] >= floor, (key, measured, [r for r in rows if not r["right"]])
    assert measured["off_topic"] <= OFF_TOPIC_CEILING, measured
    assert set(measured["not_found_by_why"]) == {
        "place_absent",
        "topic_absent_for_place",
        "wrong_time",
        "out_of_domain",
        "junk",
    }


def test_metrics_hand_computed():
    found = [set(), {0}, set(), {1}, {0}]  # gold 0 at rank 2, gold 1 at rank 4
    assert recall_at(found, 2, 1) == 0 and recall_at(found, 2, 5) == 1
    assert mrr_at(found, 10) == 0.5
    assert ndcg_at(found, 2, 10) == pytest.approx(
        (1 / 1.5849625 + 1 / 2.3219281) / (1 + 1 / 1.5849625)
    )


def test_best_threshold_separates_groups():
    assert best_threshold([5.0, 6.0, 7.0], [1.0, 2.0, 5.5]) == {
        "threshold": 5.0,
        "balanced_accuracy": pytest.approx(0.8333, abs=1e-4),
    }
