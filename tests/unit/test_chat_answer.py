"""The web chat's logic without a server: answers, follow-ups, dates, rendering, the LLM filter."""

import pytest

from answer.llm import build_messages, cited_sentences
from answer.sentences import Reply, SentenceScorer, extractive_answer, split_sentences
from chat.conversation import follow_up_query
from chat.render import (
    cards_html,
    esc_markdown,
    full_text_html,
    marked,
    reply_markdown,
    retire_links,
)
from chat.service import date_bound
from index.tokenizer import make_tokenizer
from ingest.places import load_gazetteer

GAZ = load_gazetteer()
TOKENIZE = make_tokenizer("jieba")
DAZHOU_Q = "达州在年鉴质量方面做了什么决定"

P1 = (
    "10月10日，达州市地方志办召开专题会议，研究贯彻落实全省年鉴质量提升工作视频会议措施。"
    "会议决定，成立年鉴质量提升工作专班！会后印发了通知。"
)
P2 = "10月12日，泸州市地方志办印发《泸州市“精品年鉴品读季”活动实施方案》。活动为期三个月。"


def scorer(passages):
    frequency = {}
    for text in passages:
        for token in set(TOKENIZE(text)):
            frequency[token] = frequency.get(token, 0) + 1
    return SentenceScorer(TOKENIZE, frequency, len(passages))


def test_split_sentences_keeps_offsets_and_closing_quotes():
    text = "他说：“好。”然后走了！  最后一句没有句号"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["他说：“好。”", "然后走了！", "最后一句没有句号"]


def test_a_line_break_ends_a_sentence_without_punctuation():
    text = "深化年鉴质量意识，持续推动年鉴质量提升\n会议要求，各地按时报送。"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "深化年鉴质量意识，持续推动年鉴质量提升",
        "会议要求，各地按时报送。",
    ]


def test_answer_sentences_are_verbatim_spans_with_markers():
    answer = extractive_answer(DAZHOU_Q, [P1, P2], scorer([P1, P2]))
    assert answer.sentences, "the 达州 passage answers the question"
    for sentence in answer.sentences:
        source = [P1, P2][sentence.passage - 1]
        assert source[sentence.start : sentence.end] == sentence.text
    assert answer.sentences[0].passage == 1 and answer.sentences[0].text.startswith(
        "10月10日，达州市"
    )
    assert all(f"{s.text}[{s.passage}]" in answer.text for s in answer.sentences)
    assert answer.highlights(1) == [(s.start, s.end) for s in answer.sentences if s.passage == 1]


def test_no_shared_word_falls_back_to_the_top_passage_lead():
    answer = extractive_answer("xyz qqq", [P2, P1], scorer([P1, P2]))
    assert [s.text for s in answer.sentences] == [P2.split("。")[0] + "。"]
    assert answer.text.endswith("[1]")


def test_empty_passages_give_an_empty_answer():
    assert extractive_answer(DAZHOU_Q, [], scorer([P1])) == Reply(())


@pytest.mark.parametrize(
    "question, expected",
    [
        ("那巴中呢?", "巴中市在年鉴质量方面做了什么决定"),
        ("巴中呢", "巴中市在年鉴质量方面做了什么决定"),
        ("那大竹县呢？", "大竹县在年鉴质量方面做了什么决定"),
        ("德阳和遂宁呢", "德阳市、遂宁市在年鉴质量方面做了什么决定"),
        ("2023年呢", "2023年达州在年鉴质量方面做了什么决定"),
        ("What about Bazhong?", "巴中市在年鉴质量方面做了什么决定"),
    ],
)
def test_follow_ups_reuse_the_previous_topic(question, expected):
    assert follow_up_query(question, DAZHOU_Q, GAZ) == expected


def test_follow_up_names_the_place_in_chinese_even_in_an_english_thread():
    assert (
        follow_up_query("What about Bazhong?", "what did Dazhou decide on yearbook quality", GAZ)
        == "what did 巴中市 decide on yearbook quality"
    )
    # a previous question without a place gets the Chinese name in front, never pinyin
    assert follow_up_query("What about Luzhou?", "<b>年鉴质量</b>", GAZ) == "泸州市<b>年鉴质量</b>"


@pytest.mark.parametrize(
    "question, previous",
    [
        ("巴中在年鉴质量上做了什么", DAZHOU_Q),  # has its own topic
        ("那巴中呢?", None),  # nothing to follow
        ("方志馆建设情况怎么样", DAZHOU_Q),  # no place, no year
    ],
)
def test_new_questions_stand_alone(question, previous):
    assert follow_up_query(question, previous, GAZ) is None


@pytest.mark.parametrize(
    "text, end, expected",
    [
        ("2022", False, "2022-01-01"),
        ("2022", True, "2022-12-31"),
        ("2024-02", True, "2024-02-29"),
        ("2022-12", True, "2022-12-31"),
        ("2022年11月", False, "2022-11-01"),
        ("2022-11-02", True, "2022-11-02"),
        ("2022/11/2", False, "2022-11-02"),
        ("", False, None),
    ],
)
def test_date_bounds(text, end, expected):
    assert date_bound(text, end) == expected


@pytest.mark.parametrize(
    "text", ["去年", "2022-13", "2023-02-30", "11/2022", "2022-00", "2022-11-0"]
)
def test_bad_dates_are_refused_in_chinese(text):
    with pytest.raises(ValueError, match="日期"):
        date_bound(text, end=False)


XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def result(text=P1, **extra):
    return {
        "rank": 1,
        "chunk_id": "doc#0",
        "doc_id": "doc",
        "text": text,
        "score": 1.0,
        "title": extra.get("title", "标题"),
        "date": "2022-11-02",
        "section": "市州动态",
        "places": ["达州市"],
        "source_org": "达州市地方志办",
        "start": 0,
        "end": len(text),
        "citation": extra.get("citation", "《四川省地方志工作简报》2022年11月2日"),
        "highlights": [[0, 10]],
    }


def test_cards_escape_document_text_and_mark_highlights():
    html = cards_html(
        {"found": True, "results": [result(text=XSS + "正文", title=XSS, citation=XSS)]}
    )
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # highlight offsets cut the raw text, escaping follows
    assert '<mark class="hl">&lt;script&gt;' in html


def test_related_entries_sit_apart_under_their_own_heading():
    precedent = {
        "summary": "1个市州：达州",
        "groups": [{"city": "达州市", "name": "达州", "counties": [], "count": 1}],
        "related": [{"key": "x"}],
    }
    counted = {**result(text="达州市印发方案。"), "group": "达州市"}
    related = {**result(text="巴中市作出部署。"), "group": "相关但不计入"}
    html = cards_html({"found": True, "precedent": precedent, "results": [counted, related]})
    assert '<div class="group-heading">达州 · 1条</div>' in html
    assert (
        '<div class="group-heading related">相关但不计入（只提及，未见写明做了此事） · 1条</div>'
        in html
    )
    assert html.index("达州 · 1条") < html.index("相关但不计入")


def test_reply_escapes_answer_and_turns_markers_into_links_to_the_cards():
    record = {
        "found": True,
        "answer": XSS + "。[1] *重点*[2]",
        "notices": [],
        "answer_source": "extractive",
        "results": [{}, {}],
    }
    reply = reply_markdown(record)
    assert "<script>" not in reply and "<img" not in reply and r"\*重点\*" in reply
    assert '<a class="cite-ref" href="#card-1" title="查看第1段原文">[1]</a>' in reply
    assert 'href="#card-2"' in reply
    # the mode that answered, and the link down to the cards (shown when they are below)
    assert reply.endswith(
        '<span class="reply-mode">回答方式：问答（摘录原文）</span> '
        '<a class="jump-cards" href="#cards">查看引用的原文段落 ↓</a>'
    )


def test_not_found_reply_has_no_answer_text():
    reply = reply_markdown(
        {
            "question": "眉山的年鉴获奖情况",
            "found": False,
            "answer": "",
            "not_found_message": "在已收录的5期简报中未找到“x”的答案。",
            "notices": [],
        }
    )
    assert reply.startswith("在已收录的5期简报中未找到") and "cite-ref" not in reply
    assert "jump-cards" not in reply  # no cards to jump to


def test_earlier_replies_lose_their_links_when_the_cards_change():
    reply = reply_markdown({"found": True, "answer": "甲[1]乙[2]", "notices": [], "results": [{}]})
    old = retire_links(reply)
    assert "cite-ref" not in old and "jump-cards" not in old
    assert old.count('class="cite-old"') == 2 and "[2]</span>" in old
    assert retire_links([{"type": "text", "text": reply}])[0]["text"] == old
    assert retire_links("纯文字") == "纯文字"


def test_english_question_is_told_the_quotes_are_chinese():
    base = {"question": "What did Dazhou decide?", "notices": [], "results": [{}]}
    found = reply_markdown({**base, "found": True, "answer": "达州…[1]"})
    assert found.startswith("*Quoted from the bulletins in the original Chinese")
    missing = reply_markdown({**base, "found": False, "answer": "", "not_found_message": "未找到"})
    assert missing.startswith("*Not found in the bulletins")


def test_precedent_reply_says_list_mode():
    record = {"found": True, "answer": "6个市州[1]", "notices": [], "precedent": {"count": 6}}
    assert "回答方式：查先例（按市州列出全部相关条目）" in reply_markdown(record)


def test_typed_links_stay_text_in_the_chat():
    text = esc_markdown("[点我](http://example.com) www.example.org a@b.cn 3.5万 12:30")
    assert text == (
        r"\[点我\]\(http&#58;//example.com\) www&#46;example.org a&#64;b.cn 3.5万 12:30"
    )


def test_cards_heading_says_which_passages_the_reply_cites():
    results = [
        {"chunk_id": f"c{i}", "citation": "引用", "text": "正文", "title": "题"} for i in range(3)
    ]
    html = cards_html({"found": True, "answer": "甲[1]乙[3]", "results": results})
    assert "回答引用其中2段" in html and html.count("cited-tag") == 2
    html = cards_html({"found": True, "answer": "甲[1]乙[2]丙[3]", "results": results})
    assert "回答引用的原文段落" in html
    html = cards_html({"found": False, "answer": "", "results": results})
    assert "可能相关的原文段落" in html and "cited-tag" not in html


def test_full_text_marks_the_cited_passage_once():
    text = "前文。" + P1 + "后文。"
    html = full_text_html(
        {
            "chunk_id": "d#1",
            "text": text,
            "start": 3,
            "end": 3 + len(P1),
            "date": None,
            "date_estimate": "2024",
            "issuer": None,
            "issue_no": None,
            "citation": "引",
        }
    )
    assert html.count('id="cited-passage"') == 1 and "日期不详（约2024年）" in html
    assert f'<mark class="cited" id="cited-passage">{P1}</mark>' in html


def test_marked_ignores_overlaps_and_out_of_range():
    assert (
        marked("abcdef", [(1, 3), (2, 4), (5, 99)])
        == 'a<mark class="hl">bc</mark>de<mark class="hl">f</mark>'
    )


def test_markdown_escape():
    assert esc_markdown("[x](y) <b>") == r"\[x\]\(y\) &lt;b&gt;"


def test_llm_sentences_without_a_valid_citation_are_dropped():
    reply = "达州召开专题会议。[1] 这句没有出处。 另一句引用了不存在的段落。[7] 两处都引用。[1][2]"
    kept = cited_sentences(reply, 2)
    assert [s.text for s in kept] == ["达州召开专题会议。[1]", "两处都引用。[1][2]"]
    assert kept[1].passages == (1, 2)


def test_llm_prompt_numbers_passages():
    messages = build_messages("问", ["甲", "乙"])
    assert messages[0]["role"] == "system" and "[1] 甲\n\n[2] 乙" in messages[1]["content"]


def test_exported_files_are_named_by_kind_topic_and_day():
    from datetime import date

    from chat.service import export_stem

    day = date(2026, 11, 30)
    precedent = {
        "precedent": {"summary": "6个市州"},
        "understood": {"topic": "印发了品读季实施方案"},
    }
    assert export_stem(precedent, day) == "先例_印发了品读季实施方案_2026-11-30"
    plain = {"precedent": None, "understood": None, "query": "达州 年鉴/质量?"}
    assert export_stem(plain, day) == "检索结果_达州年鉴质量_2026-11-30"
