"""English questions get Chinese place names and terms; tokenizers keep Chinese words."""

from index.expand import expand_query
from index.tokenizer import BigramTokenizer, make_tokenizer
from ingest.places import load_gazetteer


def test_english_places_and_terms_get_chinese_forms():
    expanded = expand_query("what did Dazhou decide on yearbook quality", load_gazetteer())
    assert "达州市" in expanded and "年鉴" in expanded and "质量" in expanded
    assert "大竹县" in expand_query("instructions in Dazhu county", load_gazetteer())


def test_chinese_query_unchanged():
    assert (
        expand_query("达州在年鉴质量方面做了什么决定", load_gazetteer())
        == "达州在年鉴质量方面做了什么决定"
    )


def test_jieba_keeps_gazetteer_names_whole():
    tokens = make_tokenizer("jieba")("大竹县地方志工作获县政府主要领导肯定性批示")
    assert "大竹县" in tokens and "批示" in tokens
    assert "的" not in make_tokenizer("jieba")("达州的年鉴")


def test_bigram_tokens():
    assert BigramTokenizer()("达州年鉴 Dazhou") == ["达州", "州年", "年鉴", "dazhou"]


def test_question_words_count_once_by_their_forms():
    tokenizer = make_tokenizer("jieba")
    vocab = set(tokenizer("广安召开会议。广安市地方志办"))  # a passage: every granularity
    groups = tokenizer.query_words("广安市的会议", vocab)
    assert groups[0][0] == "广安市" and "广安" in groups[0]  # one word, its forms
    assert ("会议",) in groups and all("的" not in g for g in groups)
    assert tokenizer.query_words("广安市", {"广安"}) == [("广安",)]  # only forms the index has
    assert BigramTokenizer().query_words("年鉴", {"年鉴"}) == [("年鉴",)]
