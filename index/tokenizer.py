"""Chinese-aware tokenizers for BM25.

Two candidates, chosen by measurement (see README, "Choices measured"):
- "jieba": jieba's search-mode segmentation, with every gazetteer place name in
  its dictionary so "大竹县" and "达州" are words, not fragments.
- "bigram": overlapping character bigrams of each Chinese run; no dictionary.
Both lowercase ASCII words and drop punctuation and a few function words.

Passages and questions are cut differently (`query_words`): a passage gets every
granularity (search mode: "北京市" -> 北京, 京市, 北京市) so a shorter or longer form in a
question still finds it; a question's word counts once, by its best-matching form. Counting
every form (the old way) made a three-character place name weigh three times and outweigh
the words that pick the passage (docs/retrieval-quality.md, "BM25 on NCPPolicies").
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Callable, Container, Iterable, Protocol

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_WORD_CHARS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffa-z0-9]")
STOPWORDS = frozenset(
    "的 了 在 和 与 及 是 对 把 被 将 为 于 等 也 并 就 都 而 之 其 这 那 有 个 中 上 下 "
    "什么 哪些 哪个 哪里 怎么 如何 多少 是否 吗 呢 啊 "
    "the a an of in on to and or for what which who how did does do is are was were "
    "with about".split()
)


class Tokenizer(Protocol):
    name: str

    def __call__(self, text: str) -> list[str]: ...

    def query_words(self, text: str, vocab: Container[str]) -> list[tuple[str, ...]]:
        """A question's words for BM25, each as the forms of it found in vocab (the index's
        tokens); a passage scores each word by its best form."""
        ...


class BigramTokenizer:
    name = "bigram"

    def __call__(self, text: str) -> list[str]:
        text = text.lower()
        tokens: list[str] = []
        for run in _CJK_RUN.findall(text):
            if len(run) == 1:
                tokens.append(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        tokens.extend(w for w in _ASCII_WORD.findall(text) if w not in STOPWORDS)
        return tokens

    def query_words(self, text: str, vocab: Container[str]) -> list[tuple[str, ...]]:
        return [(t,) for t in self(text) if t in vocab]


class JiebaTokenizer:
    name = "jieba"

    def __init__(self, extra_words: list[str] | tuple[str, ...] = ()):
        import jieba  # imported here: loading its dictionary takes a moment

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        for word in extra_words:
            self._jieba.add_word(word, freq=20000)

    def __call__(self, text: str) -> list[str]:
        """A passage's tokens: every word and its dictionary sub-words (search mode)."""
        return self._kept(self._jieba.cut_for_search(text.lower()))

    def query_words(self, text: str, vocab: Container[str]) -> list[tuple[str, ...]]:
        """One group per word of the question (jieba's accurate mode): the word and its sub-words
        (search mode) that the index holds, the word first. "广安市" -> (广安市, 广安)."""
        groups = []
        for word in self._kept(self._jieba.cut(text.lower())):
            forms = tuple(f for f in dict.fromkeys([word, *self(word)]) if f in vocab)
            if forms:
                groups.append(forms)
        return groups

    @staticmethod
    def _kept(tokens: Iterable[str]) -> list[str]:
        kept = []
        for token in tokens:
            token = token.strip()
            if token and _WORD_CHARS.search(token) and token not in STOPWORDS:
                kept.append(token)
        return kept


TOKENIZERS: dict[str, Callable[[], Tokenizer]] = {
    "bigram": BigramTokenizer,
    "jieba": lambda: JiebaTokenizer(_gazetteer_words()),
}


def _gazetteer_words() -> tuple[str, ...]:
    from ingest.places import load_gazetteer

    return tuple(load_gazetteer().words())


@lru_cache(maxsize=None)
def make_tokenizer(name: str) -> Tokenizer:
    try:
        return TOKENIZERS[name]()
    except KeyError:
        raise ValueError(
            f"unknown tokenizer {name!r}; choose one of: {', '.join(TOKENIZERS)}"
        ) from None
