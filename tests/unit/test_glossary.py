"""The English → Chinese glossary (data/glossary/en_zh.tsv) is well formed and used."""

from conftest import ROOT
from index.expand import ALL_TERMS, GLOSSARY, TERMS, expand_query
from ingest.places import load_gazetteer

BULLETINS = "".join(
    "".join(p.read_text(encoding="utf-8").split())
    for p in (ROOT / "data" / "bulletins").glob("*.txt")
)


def rows() -> list[list[str]]:
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["english", "chinese", "paragraphs"]
    return [line.split("\t") for line in lines[1:] if line.strip()]


def test_every_line_maps_one_lower_case_english_form_to_a_word_of_the_bulletins():
    seen = set()
    for english, chinese, paragraphs in rows():
        assert english == english.strip().lower() and english not in seen, english
        seen.add(english)
        assert chinese in BULLETINS, (english, chinese)
        assert int(paragraphs) >= 3, english


def test_core_terms_win_and_the_glossary_reaches_the_query():
    assert all(ALL_TERMS[key] == value for key, value in TERMS.items())
    assert len(ALL_TERMS) > len(TERMS) + 500
    expanded = expand_query("Which offices held training sessions?", load_gazetteer())
    assert "培训" in expanded
