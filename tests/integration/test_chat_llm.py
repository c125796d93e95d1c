"""The optional language model, against a small OpenAI-compatible server started on loopback."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from answer.llm import LLMConfig
from chat.service import Assistant

pytestmark = pytest.mark.slow
QUESTION = "达州在年鉴质量方面做了什么决定"


class FakeOpenAI(BaseHTTPRequestHandler):
    reply = ""
    delay = 0.0
    status = 200
    requests: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        time.sleep(self.delay)
        payload = {
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply}}]
        }
        data = json.dumps(payload if self.status == 200 else {"error": "boom"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


@pytest.fixture(scope="module")
def assistant(real_index, server):
    return Assistant.open(
        real_index, llm=LLMConfig(server, "qwen-test", api_key="k123", timeout=2), watch=False
    )


def behave(reply="", delay=0.0, status=200):
    FakeOpenAI.reply, FakeOpenAI.delay, FakeOpenAI.status = reply, delay, status
    FakeOpenAI.requests.clear()


def test_model_reply_keeps_only_cited_sentences(assistant):
    behave(
        "达州市地方志办召开专题会议，部署年鉴质量提升工作。[1] 这句话没有出处。 "
        "另据报道还有别的安排。[9] 省里也发了函。[1][2]"
    )
    record = assistant.ask(QUESTION)
    assert record["answer_source"] == "llm"
    assert (
        record["answer"]
        == "达州市地方志办召开专题会议，部署年鉴质量提升工作。[1]省里也发了函。[1][2]"
    )
    request = FakeOpenAI.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer k123"
    assert request["body"]["model"] == "qwen-test"
    prompt = request["body"]["messages"][-1]["content"]
    assert "[1] 10月10日，达州市地方志办召开专题会议" in prompt and QUESTION in prompt
    assert record["results"][0]["highlights"], "cited passages still show the supporting sentences"


@pytest.mark.parametrize(
    "behaviour, notice",
    [
        ({"delay": 3.0}, "超过 2 秒未回复"),
        ({"status": 500}, "语言模型调用失败"),
        ({"reply": "简报中没有相关内容"}, "没有可核对的引用"),
    ],
)
def test_failures_fall_back_to_the_extractive_answer_with_a_notice(assistant, behaviour, notice):
    behave(**behaviour)
    record = assistant.ask(QUESTION)
    assert record["answer_source"] == "extractive"
    assert record["answer"].startswith("10月10日，达州市地方志办召开专题会议")
    assert any(notice in n for n in record["notices"])


def test_not_found_never_calls_the_model(assistant):
    behave("编造的答案。[1]")
    record = assistant.ask("如何办理护照")
    assert record["found"] is False and record["answer"] == "" and FakeOpenAI.requests == []


def test_configuration_from_environment(monkeypatch):
    monkeypatch.delenv("BULLETIN_LLM_BASE_URL", raising=False)
    assert LLMConfig.from_env() is None
    monkeypatch.setenv("BULLETIN_LLM_BASE_URL", "http://127.0.0.1:11434/v1/")
    monkeypatch.setenv("BULLETIN_LLM_MODEL", "qwen2.5")
    monkeypatch.setenv("BULLETIN_LLM_TIMEOUT", "7.5")
    assert LLMConfig.from_env() == LLMConfig("http://127.0.0.1:11434/v1", "qwen2.5", None, 7.5)
    monkeypatch.setenv("BULLETIN_LLM_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="BULLETIN_LLM_TIMEOUT"):
        LLMConfig.from_env()
