"""Which words a reply quotes and which items a precedent list counts: answer units
(ingest/sentences.py), the extractive reply (answer/sentences.py), the asked action
(answer/actions.py), precedent lists with `carrying=` (answer/precedent.py), a dated follow-up
(chat/conversation.py) and a list cue that is not one (answer/understand.py). Pure: no model."""

from datetime import date

import numpy as np
import pytest

from answer.actions import SPECIFIC_IDF, Action, carrying_unit
from answer.precedent import build_precedent_list
from answer.sentences import Reply, SentenceScorer, extractive_answer
from answer.understand import understand
from chat.conversation import follow_up_query
from index.retrieval import Hit
from index.tokenizer import make_tokenizer
from ingest.model import Chunk, ChunkMeta
from ingest.places import load_gazetteer
from ingest.sentences import LONG_SENTENCE, answer_units

GAZ = load_gazetteer()
TOKENIZE = make_tokenizer("jieba")
ANCHOR = date(2024, 3, 13)
RARE = SPECIFIC_IDF + 2.0  # an idf that makes a question word specific
COMMON = SPECIFIC_IDF / 4  # one that does not


def scorer(passages):
    frequency = {}
    for text in passages:
        for token in set(TOKENIZE(text)):
            frequency[token] = frequency.get(token, 0) + 1
    return SentenceScorer(TOKENIZE, frequency, len(passages))


def texts(reply: Reply) -> list[str]:
    return [s.text for s in reply.sentences]


# --- answer units ------------------------------------------------------------------------------

LEAD_IN = "会议要求，一是提高政治站位，切实增强做好年鉴编纂工作的责任感和使命感，"
POINT_2 = "二是压实工作责任，确保各承编单位按时保质报送年鉴稿件，"
POINT_3 = "三是强化质量意识，严格执行三审三校制度。"
ENUMERATING = (
    "11月3日，泸州市地方志办召开年鉴编纂工作推进会。"
    + LEAD_IN
    + POINT_2
    + POINT_3
    + "会议时间不长。"
)


def test_a_long_enumerating_sentence_gives_one_unit_per_point():
    assert len(LEAD_IN + POINT_2 + POINT_3) >= LONG_SENTENCE
    units = [ENUMERATING[s:e] for s, e in answer_units(ENUMERATING)]
    assert units == [
        "11月3日，泸州市地方志办召开年鉴编纂工作推进会。",
        LEAD_IN,  # the first point keeps the lead-in "会议要求，"
        POINT_2,
        POINT_3,
        "会议时间不长。",
    ]


def test_a_short_enumerating_sentence_stays_whole():
    short = "会议要求，一是加强领导，二是压实责任。"
    assert len(short) < LONG_SENTENCE
    text = "8月1日，宜宾市地方志办召开会议。" + short
    assert [text[s:e] for s, e in answer_units(text)] == ["8月1日，宜宾市地方志办召开会议。", short]


def test_unit_offsets_index_the_text_in_order():
    text = "  " + ENUMERATING + "\n" + ENUMERATING
    units = answer_units(text)
    assert len(units) == 10
    assert all(text[s:e].strip() == text[s:e] and e - s >= 2 for s, e in units)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(units, units[1:]))
    assert text.index(POINT_3) == units[3][0] and text.rindex(POINT_3) == units[8][0]


# --- the extractive reply ----------------------------------------------------------------------

LUZHOU = (
    "11月5日，泸州市地方志办召开专题会议，研究旧志整理工作。"
    "会议决定，启动《泸州府志》点校出版。会后印发了会议纪要。"
)
YIBIN = "11月8日，宜宾市地方志办组织开展方志进校园活动。活动覆盖全市20所中学。"
LUZHOU_PARTY = (
    "10月20日，泸州市地方志办召开党组会议，传达学习全省地方志工作会议精神。会议要求抓好贯彻落实。"
)
PASSAGES = [LUZHOU, YIBIN, LUZHOU_PARTY]
DECIDED = "会议决定，启动《泸州府志》点校出版。"
LUZHOU_Q = "泸州旧志整理专题会议决定了什么"


def test_the_later_unit_carrying_the_asked_point_is_quoted():
    reply = extractive_answer(LUZHOU_Q, PASSAGES, scorer(PASSAGES))
    assert DECIDED in texts(reply), "the lead names the meeting; the decision is what was asked"
    best = max(reply.sentences, key=lambda s: s.score)
    assert best.text == DECIDED and best.passage == 1


def test_passages_outside_eligible_are_never_quoted():
    reply = extractive_answer(LUZHOU_Q, PASSAGES, scorer(PASSAGES), eligible={2})
    assert reply.sentences and {s.passage for s in reply.sentences} == {2}
    assert extractive_answer(LUZHOU_Q, PASSAGES, scorer(PASSAGES), eligible=set()) == Reply(())


def test_units_of_one_item_come_out_in_text_order():
    reply = extractive_answer(LUZHOU_Q, PASSAGES, scorer(PASSAGES))
    own = [s for s in reply.sentences if s.passage == 1]
    assert len(own) >= 2
    assert [s.start for s in own] == sorted(s.start for s in own)
    # the order is the text's, not the scores': the lead comes first though the decision won
    assert own[0].text.startswith("11月5日") and max(own, key=lambda s: s.score) is not own[0]


TIED = "12月1日，泸州市地方志办召开专题会议。会议决定，成立工作专班。会议决定，编印工作简报。"
TIED_Q = "泸州会议决定了什么"


def marker_cosine(marker: str):
    """A fake meaning scorer: high cosine for units holding `marker`, low for the rest."""

    def semantic(units: list[str]) -> np.ndarray:
        return np.array([0.9 if marker in unit else 0.1 for unit in units])

    return semantic


def test_meaning_breaks_a_tie_of_words():
    passages = [TIED, YIBIN]
    words_only = extractive_answer(TIED_Q, passages, scorer(passages))
    scores = {s.text: s.score for s in words_only.sentences}
    assert scores["会议决定，成立工作专班。"] == scores["会议决定，编印工作简报。"], "words tie"
    plain = extractive_answer(TIED_Q, passages, scorer(passages), max_sentences=1)
    assert texts(plain) == ["会议决定，成立工作专班。"]
    meant = extractive_answer(
        TIED_Q, passages, scorer(passages), max_sentences=1, semantic=marker_cosine("简报")
    )
    assert texts(meant) == ["会议决定，编印工作简报。"]


@pytest.mark.parametrize(
    "question, passages, semantic",
    [
        (LUZHOU_Q, PASSAGES, None),
        (TIED_Q, [TIED, YIBIN], marker_cosine("简报")),
        ("泸州年鉴编纂推进会对三审三校有什么要求", [ENUMERATING, LUZHOU, YIBIN], None),
        ("xyz qqq", [YIBIN, LUZHOU], None),
        ("宜宾方志进校园", [LUZHOU, "  " + YIBIN + "\n"], marker_cosine("中学")),
    ],
)
def test_every_chosen_unit_is_a_verbatim_span(question, passages, semantic):
    reply = extractive_answer(question, passages, scorer(passages), semantic=semantic)
    assert reply.sentences
    for s in reply.sentences:
        assert passages[s.passage - 1][s.start : s.end] == s.text


def test_a_point_of_an_enumeration_is_quoted_without_the_others():
    passages = [ENUMERATING, LUZHOU, YIBIN]
    reply = extractive_answer("泸州年鉴编纂推进会对三审三校有什么要求", passages, scorer(passages))
    assert POINT_3 in texts(reply)
    assert all(LEAD_IN + POINT_2 not in t for t in texts(reply))


def test_no_passages_give_an_empty_reply():
    assert extractive_answer(LUZHOU_Q, [], scorer(PASSAGES)) == Reply(())
    assert extractive_answer(LUZHOU_Q, [], scorer(PASSAGES), semantic=marker_cosine("x")) == Reply(
        ()
    )


# --- the asked action --------------------------------------------------------------------------

ISSUE_Q = "哪些市州印发了书香方志月实施方案"
ISSUE_TERMS = {"市州": COMMON, "印发": RARE, "书香方志月": RARE + 1, "实施方案": RARE}
ISSUED = "10月12日，宜宾市地方志办印发《宜宾市“书香方志月”活动实施方案》。"


def carries(question: str, terms: dict[str, float], text: str, title: str = "") -> str | None:
    span = carrying_unit(Action.of(question, terms))(text, title)
    return text[span[0] : span[1]] if span else None


def test_an_issued_plan_counts_with_its_unit_as_the_quote():
    action = Action.of(ISSUE_Q, ISSUE_TERMS)
    assert [k.name for k in action.kinds] == ["issue"]
    # common words, the verb and the document's form (实施方案) are not topic terms
    assert set(action.terms) == {"书香方志月"}
    assert carries(ISSUE_Q, ISSUE_TERMS, ISSUED + "活动为期一个月。") == ISSUED


@pytest.mark.parametrize(
    "text",
    [
        # a plan to make the plan: 要…研究制定
        "10月15日，巴中市地方志办召开党组会议。会议指出，要及时研究制定“书香方志月”活动方案。",
        # the topic without an issue verb
        "10月15日，巴中市地方志办召开党组会议，对全市“书香方志月”活动作出部署。",
    ],
)
def test_a_planned_or_verbless_mention_does_not_count_as_issued(text):
    assert carries(ISSUE_Q, ISSUE_TERMS, text) is None


MEET_Q = "哪些市州召开了年鉴质量提升专题会议"
MEET_TERMS = {"市州": COMMON, "召开": RARE, "年鉴": RARE, "质量": RARE, "提升": RARE}
MEET_TERMS["专题会议"] = RARE


def test_a_meeting_a_plan_calls_for_is_not_a_meeting_held():
    plan = (
        "9月1日，德阳市地方志办印发《德阳市年鉴质量提升工作方案》。"
        "方案明确，9月底前召开年鉴质量提升专题会议。"
    )
    assert carries(MEET_Q, MEET_TERMS, plan) is None
    held = "9月5日，遂宁市地方志办召开年鉴质量提升专题会议。会议总结了上年工作。"
    assert carries(MEET_Q, MEET_TERMS, held) == "9月5日，遂宁市地方志办召开年鉴质量提升专题会议。"


DEPLOY_Q = "哪些市州在会议上部署了扶贫志编纂"
DEPLOY_TERMS = {"市州": COMMON, "会议": COMMON, "部署": RARE, "扶贫志": RARE + 1, "编纂": RARE}
NO_MEETING = "8月3日，南充市地方志办积极推进《南充扶贫志》编纂工作，部署扶贫志编纂。"


def test_a_meetings_demand_counts_for_a_deploy_question():
    meeting = (
        "8月3日，南充市地方志办召开全市地方志工作会议。会议强调，一要提高站位。"
        "二要积极推进《南充扶贫志》编纂工作。"
    )
    assert carries(DEPLOY_Q, DEPLOY_TERMS, meeting) == "二要积极推进《南充扶贫志》编纂工作。"


def test_at_a_meeting_needs_a_meeting_in_the_item():
    assert Action.of(DEPLOY_Q, DEPLOY_TERMS).at_meeting
    assert carries(DEPLOY_Q, DEPLOY_TERMS, NO_MEETING) is None
    # the same item counts when the question does not say 在…会议上
    assert carries("哪些市州部署了扶贫志编纂", DEPLOY_TERMS, NO_MEETING) == NO_MEETING


INSTRUCT_TERMS = {"市州": COMMON, "领导": RARE, "史志": RARE, "工作": COMMON, "批示": RARE}
INSTRUCTED = "5月6日，巴中市委书记对地方志工作作出批示，肯定全市地方志工作成绩。"


def test_shizhi_in_the_question_is_met_by_difangzhi_in_the_text():
    question = "哪些市州领导对史志工作作出批示"
    assert carries(question, INSTRUCT_TERMS, INSTRUCTED) == INSTRUCTED
    assert carries(question, INSTRUCT_TERMS, "5月6日，巴中市委书记对档案工作作出批示。") is None


def test_kinds_joined_by_huo_are_alternatives():
    terms = {**INSTRUCT_TERMS, "听取": RARE, "汇报": RARE}
    either = "哪些市州领导听取史志工作汇报或作出批示"
    assert {k.name for k in Action.of(either, terms).kinds} == {"hear", "instruct"}
    assert carries(either, terms, INSTRUCTED) == INSTRUCTED
    assert carries(either, terms, "5月6日，巴中市委常委会听取地方志工作汇报。") is not None
    # without 或 only the first kind named is asked
    assert carries("哪些市州领导听取史志工作汇报", terms, INSTRUCTED) is None


# --- precedent lists ---------------------------------------------------------------------------


def hit(n: int, text: str, source_org: str, places, score: float = 0.8) -> Hit:
    """A one-chunk report of its own item, as retrieval returns it."""
    labels = tuple(places)
    cities = tuple(dict.fromkeys(label.split(" › ")[0] for label in labels))
    meta = ChunkMeta(
        title=f"标题{n}",
        date="2023-10-20",
        places=labels,
        cities=cities,
        source_org=source_org,
        event_dates=("2023-10-01",),
        item_id=f"doc{n}/0",
    )
    return Hit(Chunk(f"doc{n}#0", f"doc{n}", text, text, 0, len(text), meta), score, n)


def result_of(h: Hit, rank: int) -> dict:
    meta = h.chunk.meta
    return {
        "rank": rank,
        "chunk_id": h.chunk.chunk_id,
        "doc_id": h.chunk.doc_id,
        "text": h.chunk.text,
        "title": meta.title,
        "date": meta.date,
        "section": "市州动态",
        "source_org": meta.source_org,
    }


def precedents(hits, question, terms, level=None):
    carrying = carrying_unit(Action.of(question, terms))
    return build_precedent_list(question, hits, result_of, GAZ, 0.5, level=level, carrying=carrying)


def test_mentions_without_the_action_are_related_and_not_counted():
    hits = [
        hit(1, ISSUED + "活动为期一个月。", "宜宾市地方志办", ["宜宾市"], 0.7),
        hit(
            2,
            "10月15日，巴中市地方志办召开党组会议，要及时研究制定“书香方志月”活动方案。",
            "巴中市地方志办",
            ["巴中市"],
            0.9,
        ),
        hit(
            3,
            "10月18日，宜宾市地方志办召开会议，对“书香方志月”活动作出部署。",
            "宜宾市地方志办",
            ["宜宾市"],
            0.8,
        ),
    ]
    plist = precedents(hits, ISSUE_Q, ISSUE_TERMS, level="city")
    assert [g.name for g in plist.groups] == ["宜宾"] and plist.count == 1
    assert plist.entries[0].quote_text == ISSUED
    assert [e.key for e in plist.related] == ["doc2/0#0", "doc3/0#0"]
    assert all(e.quote is None for e in plist.related)
    assert plist.summary == "1个市州：宜宾"
    assert plist.related_summary == "相关但不计入：巴中，另有已列市州的1条"


def test_a_city_report_naming_its_counties_is_listed_under_them():
    spoke = "会上，绵竹市、什邡市、广汉市史志部门作经验交流发言。"
    text = "6月2日，德阳市地方志办召开全市史志工作会议。" + spoke
    question = "哪些县在史志工作会议上作交流发言"
    plist = precedents(
        [hit(1, text, "德阳市地方志办", ["德阳市"])],
        question,
        {"史志": RARE, "交流发言": RARE},
        "county",
    )
    assert [(g.name, g.counties) for g in plist.groups] == [("德阳", ("绵竹", "什邡", "广汉"))]
    assert [e.place for e in plist.entries] == [
        "德阳市 › 绵竹市",
        "德阳市 › 什邡市",
        "德阳市 › 广汉市",
    ]
    assert all(e.quote_text == spoke for e in plist.entries)
    assert len({e.key for e in plist.entries}) == 3 and not plist.related


SELECT_Q = "哪些市州有成果入选全国地方志优秀成果"
SELECT_TERMS = {"市州": COMMON, "成果": COMMON, "全国": COMMON, "优秀成果": RARE + 1}


def test_a_province_report_naming_a_city_yearbook_is_listed_under_that_city():
    named = "9月，中国地方志指导小组办公室公布全国地方志优秀成果名单，《成都年鉴（2023）》入选。"
    text = named + "全省共有1部年鉴入选。"
    # the report's own metadata names no city: the quote does
    report = hit(1, text, "省地方志办", [])
    plist = precedents([report], SELECT_Q, SELECT_TERMS, "city")
    assert [(g.city, g.name) for g in plist.groups] == [("成都市", "成都")]
    assert plist.summary == "1个市州：成都"
    assert plist.entries[0].quote_text == named
    # without a level the report stays the province's own
    assert [g.name for g in precedents([report], SELECT_Q, SELECT_TERMS).groups] == ["省级"]


def test_city_own_drops_county_reports():
    county = hit(
        1,
        "9月，绵竹市地方志办编纂的《绵竹年鉴（2023）》入选全国地方志优秀成果。",
        "绵竹市地方志办",
        ["德阳市 › 绵竹市"],
    )
    city = hit(
        2,
        "9月，德阳市地方志办编纂的《德阳年鉴（2023）》入选全国地方志优秀成果。",
        "德阳市地方志办",
        ["德阳市"],
    )
    with_counties = precedents([county, city], SELECT_Q, SELECT_TERMS, "city")
    assert sorted(e.place for e in with_counties.entries) == ["德阳市", "德阳市 › 绵竹市"]
    own = precedents([county, city], SELECT_Q, SELECT_TERMS, "city_own")
    assert [e.place for e in own.entries] == ["德阳市"] and not own.related
    assert own.summary == "1个市州：德阳"


# --- follow-ups and list cues ------------------------------------------------------------------


def test_a_new_year_replaces_the_old_year_with_its_month():
    previous = "广安2024年3月的推进会对方志馆有什么安排"
    assert follow_up_query("2023年的呢", previous, GAZ) == "广安2023年的推进会对方志馆有什么安排"


def test_places_to_learn_from_are_not_a_precedent_list():
    assert not understand(
        "资阳市委常委听完汇报后要求学习借鉴哪些地方", GAZ, anchor=ANCHOR
    ).precedent
    asked = understand("哪些地方开展了书香方志月活动", GAZ, anchor=ANCHOR)
    assert asked.precedent and asked.precedent_cue == "哪些地方"


def test_a_sub_heading_or_a_cut_sentence_is_never_quoted():
    passage = (
        "深化年鉴质量意识，持续推动年鉴质量提升\n"
        "质量建设永远在路上。下一步，省地方志办将继续深化年鉴质量意识，抓好市级综合年鉴。\n"
        "强化流程监督，注重审查结果运用"
    )
    reply = extractive_answer("年鉴质量提升", [passage], scorer([passage]))
    assert reply.sentences and all(s.text.endswith("。") for s in reply.sentences)


def test_a_related_entry_must_be_about_the_topic():
    action = Action.of("哪些市州印发了书香方志月实施方案", {"书香方志月": RARE, "实施方案": RARE})
    assert action.mentioned_in("某市对全市“书香方志月”活动作出部署。")
    assert not action.mentioned_in("南部县联合印发《南部县扶贫志编纂工作实施方案》。")
