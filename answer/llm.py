"""Optional: a language model writes the reply, from the retrieved passages only.

Any OpenAI-compatible chat endpoint (a local vLLM or Ollama serving Qwen, say):
    BULLETIN_LLM_BASE_URL   e.g. http://127.0.0.1:11434/v1
    BULLETIN_LLM_MODEL      e.g. qwen2.5:7b-instruct
    BULLETIN_LLM_API_KEY    optional (sent as a Bearer token)
    BULLETIN_LLM_TIMEOUT    seconds, default 30
Every sentence of the reply must cite a passage shown ([n], 1 ≤ n ≤ passages); a sentence
without a valid citation is dropped, because the user cannot check it. If nothing cited
is left, or the endpoint fails or times out, the caller shows the extractive answer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import httpx

from answer.sentences import reply_sentences

SYSTEM_PROMPT = (
    "你是四川省地方志工作办公室的简报助手。只根据用户提供的编号段落回答问题，不得使用段落以外的知识。"
    "每一句话末尾都必须用[编号]标明出处，例如“……。[1]”。段落中没有答案时，只回答“简报中没有相关内容”。"
    "用简洁的中文回答，不超过四句话。"
)
_CITATION = re.compile(r"\[(\d{1,2})\]")


class LLMError(Exception):
    pass


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> "LLMConfig | None":
        base_url, model = (
            os.environ.get("BULLETIN_LLM_BASE_URL"),
            os.environ.get("BULLETIN_LLM_MODEL"),
        )
        if not base_url or not model:
            return None
        timeout = os.environ.get("BULLETIN_LLM_TIMEOUT") or "30"
        try:
            seconds = float(timeout)
        except ValueError:
            raise ValueError(
                f"BULLETIN_LLM_TIMEOUT={timeout!r} is not a number of seconds"
            ) from None
        return cls(
            base_url.rstrip("/"), model, os.environ.get("BULLETIN_LLM_API_KEY") or None, seconds
        )


def build_messages(question: str, passages: list[str]) -> list[dict]:
    numbered = "\n\n".join(f"[{i}] {text}" for i, text in enumerate(passages, 1))
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"段落：\n{numbered}\n\n问题：{question}"},
    ]


def complete(config: LLMConfig, question: str, passages: list[str]) -> str:
    """The model's raw reply; LLMError on any failure (network, timeout, bad response)."""
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    body = {"model": config.model, "messages": build_messages(question, passages), "temperature": 0}
    try:
        response = httpx.post(
            f"{config.base_url}/chat/completions",
            json=body,
            headers=headers,
            timeout=config.timeout,
        )
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"] or ""
        if not isinstance(content, str):
            raise TypeError(f"message content is {type(content).__name__}, not text")
        return content
    except httpx.TimeoutException:
        raise LLMError(f"语言模型超过 {config.timeout:g} 秒未回复") from None
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"语言模型调用失败：{exc}") from None


@dataclass(frozen=True)
class CitedSentence:
    text: str  # with its [n] markers
    passages: tuple[int, ...]


def cited_sentences(reply: str, n_passages: int) -> list[CitedSentence]:
    """The reply's sentences that cite at least one shown passage; invalid [n] are removed."""
    kept = []
    for sentence in reply_sentences(reply):
        cites = tuple(dict.fromkeys(int(n) for n in _CITATION.findall(sentence)))
        valid = tuple(n for n in cites if 1 <= n <= n_passages)
        if not valid:
            continue
        body = _CITATION.sub("", sentence).strip()
        if not body:
            continue
        kept.append(CitedSentence(body + "".join(f"[{n}]" for n in valid), valid))
    return kept
