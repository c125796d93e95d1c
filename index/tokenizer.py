"""Chinese-aware tokenizers for BM25.

Two candidates, chosen by measurement (see README, "Choices measured"):
- "jieba": jieba's search-mode segmentation, with every gazetteer place name in
  its dictionary so "大竹县" and "达州" are words, not fragments.
- "bigram": overlapping character bigrams of each Chinese run; no dictionary.
Both lowercase ASCII words and drop punctuation and a few function words.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Callable, Protocol

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


class JiebaTokenizer:
    name = "jieba"

    def __init__(self, extra_words: list[str] | tuple[str, ...] = ()):
        import jieba  # imported here: loading its dictionary takes a moment

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        for word in extra_words:
            self._jieba.add_word(word, freq=20000)

    def __call__(self, text: str) -> list[str]:
        tokens = []
        for token in self._jieba.cut_for_search(text.lower()):
            token = token.strip()
            if token and _WORD_CHARS.search(token) and token not in STOPWORDS:
                tokens.append(token)
        return tokens


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
