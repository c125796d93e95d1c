"""简报助手 · the web chat over the bulletin index.

    python app.py                                  # http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080 --index /srv/bulletin-index

Environment: BULLETIN_HOST, BULLETIN_PORT, BULLETIN_INDEX_DIR; BULLETIN_AUTH="user:password"
(several: comma-separated) requires a login; BULLETIN_LLM_* configure an optional language
model (answer/llm.py); BULLETIN_FEEDBACK_FILE is where 👍/👎 go (chat/feedback.py).
The page is thin: answering lives in chat/service.py, HTML in chat/render.py.
"""

import argparse
import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from ingest.errors import UsageError
from ingest.paths import SAMPLE_BULLETINS as BUNDLED

log = logging.getLogger("bulletin.app")

EXAMPLES = [
    "达州在年鉴质量方面做了什么决定？",
    "哪些市州印发了精品年鉴品读季活动实施方案？",
    "德阳品读季活动筹集了多少经费？",
    "2024年3月哪些地方召开了地方志工作会议？",
    "What did Dazhou decide on yearbook quality?",
]


# the cards are on the right on a wide screen and below the chat on a phone (CARDS_JS)
INTRO = (
    "回答只摘录简报原文，每句标注出处 [n]，点击 [n] 即可查看"
    '<span class="side-only">右侧</span><span class="stacked-only">下方</span>对应的原文段落。'
)

# the search modes as the page names them (the API keeps hybrid / bm25 / dense)
SEARCH_MODES = [("综合", "hybrid"), ("关键词", "bm25"), ("语义", "dense")]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def open_network_warning(host: str, auth: list[tuple[str, str]] | None) -> str | None:
    """The loud line printed when the chat listens beyond this machine without a login."""
    if auth or host in LOOPBACK:
        return None
    return (
        f"警告 / WARNING：简报助手在 {host} 上对网络开放，且未设置 BULLETIN_AUTH："
        '同一网络上的任何人都能提问和查看简报。请设置 BULLETIN_AUTH="用户名:密码" 要求登录，'
        "或用 --host 127.0.0.1 只在本机使用。"
    )


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """ "alice:pw1,bob:pw2" -> [("alice", "pw1"), ("bob", "pw2")]; None when unset."""
    if not value:
        return None
    pairs = []
    for item in value.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise UsageError(
                "BULLETIN_AUTH must look like user:password (several separated by commas)"
            )
        pairs.append((user, password))
    return pairs


# a conversation's state before its first question
EMPTY_STATE = {
    "previous": None,  # the question a follow-up ("那巴中呢") continues
    "records": {},  # the answers by chat position, for 👍/👎
    "last": None,  # the question on screen, re-asked when an understood part is unticked
    "pending": None,  # the question being answered (shown in the chat with 正在检索…)
    "list_mode": None,  # 查先例 ticked before the first answer
}


def build_app(assistant):
    """The Gradio page over an Assistant (chat/service.py): its handlers, its layout, their
    events."""
    import gradio as gr

    from chat.export_folder import GRADIO_DELETE_CACHE

    handlers = page_handlers(assistant, gr)
    # Gradio's copies of the downloads go after an hour too, and all of them when it stops
    with gr.Blocks(
        title="简报助手 · 四川省地方志工作简报", delete_cache=GRADIO_DELETE_CACHE
    ) as page:
        ui = page_layout(assistant, gr, handlers.full_text_html)
        wire_events(ui, handlers)
    return page


def page_handlers(assistant, gr) -> SimpleNamespace:
    """What the page calls: answering (respond, refine), 查看全文, 👍/👎, 新对话 and the /ask
    API."""
    from chat.feedback import record_vote
    from chat.render import esc, full_text_html as render_full_text

    def full_text_html(chunk_id: str) -> str:
        """Called from the cards' 查看全文 button (CARDS_JS: server.full_text_html). An unknown
        passage (the index was updated since the answer) is a message in the panel and one
        log line, not a server error."""
        try:
            return render_full_text(assistant.full_text(str(chunk_id)))
        except KeyError as exc:
            message = exc.args[0] if exc.args else f"没有编号为 {chunk_id} 的段落"
            log.warning("full text: %s", message)
            return f'<div class="fulltext-missing">{esc(message)}</div>'

    def vote(data: gr.LikeData, state):
        record = (
            (state or {})
            .get("records", {})
            .get(data.index if isinstance(data.index, int) else data.index[0])
        )
        if record is None or data.liked not in (True, False, "Like", "Dislike"):
            return  # "" is Gradio taking a vote back: nothing to record
        record_vote(record, data.liked is True or data.liked == "Like")
        gr.Info("已记录您的反馈，谢谢！")

    def new_conversation():
        """新对话 and the chat's own clear button: chat, cards, exports, understood parts,
        查先例 and the follow-up context all start over."""
        return [[], *empty_answer(gr), "", dict(EMPTY_STATE)]

    return SimpleNamespace(
        **vars(answer_handlers(assistant, gr)),
        full_text_html=full_text_html,
        vote=vote,
        new_conversation=new_conversation,
        ask_api=api_handler(assistant),
    )


def api_handler(assistant):
    """ask_api: the /ask API's function (its signature and docstring are the API's)."""
    from chat.api_args import api_options
    from chat.service import public

    def ask_api(
        question: str,
        k: int = 5,
        cities: list[str] | None = None,
        date_from: str = "",
        date_to: str = "",
        sections: list[str] | None = None,
        mode: str = "hybrid",
        previous: str = "",
        drop: list[str] | None = None,
        precedent: bool | None = None,
    ) -> dict:
        """Ask a question; returns {"question", "query", "found", "answer", "results": [search
        contract keys + "citation", "highlights"], "understood", "precedent", "not_found_message",
        "relevance", ...}. drop: understood parts to leave out ("place:达州市", "date",
        "precedent"); precedent: force list mode."""
        options = api_options(k, mode, cities, date_from, date_to, sections, drop, precedent)
        if not isinstance(question, str) or not question.strip():
            raise ValueError("请输入问题。")
        if previous is not None and not isinstance(previous, str):
            raise ValueError(f"参数 previous（上一个问题）应为文字，收到“{previous}”。")
        return public(assistant.ask(question, options, previous=previous or None))

    return ask_api


def answer_handlers(assistant, gr):
    """show_pending (the question in the chat at once), respond (its answer), refine (an
    understood part unticked or ticked again) and switch_list_mode (the 查先例 box)."""
    from chat.export_folder import ExportFolder
    from chat.render import esc_markdown, reply_markdown

    # one folder per answer; removed after an hour and at exit (chat/export_folder.py)
    exports_root = ExportFolder.create()

    def show_pending(question, history, state):
        """Runs first and fast: the question goes into the chat with 正在检索…, and the box is
        emptied for the next one (asked before this one is answered, it stays there)."""
        state = dict(state or EMPTY_STATE)
        question = (question or "").strip()
        if not question:
            return gr.skip(), gr.skip(), gr.skip(), state
        if state.get("pending"):
            gr.Info("上一个问题还在检索，请稍候再提问。")
            return gr.skip(), gr.skip(), gr.skip(), state  # the typed question stays in the box
        history = [*retired(history), {"role": "user", "content": esc_markdown(question)}]
        history.append({"role": "assistant", "content": PENDING})
        # the understood parts belong to the answer being replaced: not clickable meanwhile
        hidden = gr.update(visible=False)
        return history, "", hidden, {**state, "pending": question}

    def respond(history, state, cities, date_from, date_to, sections, k, mode):
        state = dict(state or EMPTY_STATE)
        question = state.get("pending")
        if not question:
            return [gr.skip()] * 7 + [state]
        history = list(history or [])[:-1]  # without the 正在检索… line
        previous, state["pending"] = state.get("previous"), None
        # the box before a first answer is the user's choice for it; after that it shows the
        # mode of the answer on screen, and the next question's wording decides again
        list_mode = state.get("list_mode")
        options = ask_options(k, mode, cities, date_from, date_to, sections, list_mode)
        try:
            record = assistant.ask(question, options, previous=previous)
            answered = history + [{"role": "assistant", "content": reply_markdown(record)}]
            last = {"question": question, "previous": previous, "parts": []}
            state = {**state, "last": last, "list_mode": None}
            return answer_outputs(assistant, gr, exports_root, record, answered, state)
        except Exception as exc:  # the pending line must not stay: every failure is a reply
            if not isinstance(exc, ValueError):
                log.exception("answering %r failed", question)
                exc = "回答时出错，请稍后重试；如果一再出现，请告诉管理员。"
            history.append({"role": "assistant", "content": f"⚠️ {esc_markdown(exc)}"})
            # nothing on the right may look like this question's answer
            return [history, *empty_answer(gr), {**state, "last": None}]

    def refine(kept, history, state, cities, date_from, date_to, sections, k, mode):
        """The user unticked (or ticked again) an understood part: answer the same question
        again."""
        last = (state or {}).get("last")
        if not last or not history or (state or {}).get("pending"):
            return [gr.skip()] * 7 + [state]
        drop = [key for label, key in last["parts"] if label not in (kept or [])]
        return _answer_again(
            last, drop, history, state, (cities, date_from, date_to, sections, k, mode)
        )

    def switch_list_mode(checked, history, state, cities, date_from, date_to, sections, k, mode):
        """The 查先例 box: before any answer it is kept for the first question; after one, the
        same question is answered again as a list (ticked) or as a quoted answer (unticked)."""
        state = dict(state or EMPTY_STATE)
        last = state.get("last")
        if not last or not history or state.get("pending"):
            state["list_mode"] = True if checked else None
            return [gr.skip()] * 7 + [state]
        last = {**last, "precedent": bool(checked)}
        drop = [key for key in last.get("dropped", []) if key != "precedent"]
        return _answer_again(
            last,
            drop,
            history,
            {**state, "last": last},
            (cities, date_from, date_to, sections, k, mode),
        )

    def _answer_again(last, drop, history, state, settings):
        cities, date_from, date_to, sections, k, mode = settings
        # a hand-set 查先例 holds unless its own understood part is unticked
        list_mode = None if "precedent" in drop else last.get("precedent")
        options = ask_options(k, mode, cities, date_from, date_to, sections, list_mode, drop)
        try:
            record = assistant.ask(last["question"], options, previous=last["previous"])
        except ValueError as exc:
            gr.Warning(str(exc))
            return [gr.skip()] * 7 + [state]
        history = list(history)
        history[-1] = {"role": "assistant", "content": reply_markdown(record)}
        state = {**state, "last": {**last, "dropped": drop}}
        return answer_outputs(assistant, gr, exports_root, record, history, state)

    return SimpleNamespace(
        show_pending=show_pending,
        respond=respond,
        refine=refine,
        switch_list_mode=switch_list_mode,
    )


# the chat's placeholder while a question is being answered
PENDING = "正在检索…"


def empty_answer(gr) -> list:
    """Cards, understood parts, the three exports and 查先例 as before any answer."""
    from chat.render import cards_html

    hidden = gr.update(visible=False)
    nothing = gr.update(choices=[], value=[], visible=False)
    return [cards_html(None), nothing, hidden, hidden, hidden, False]


def retired(history) -> list:
    """The chat before a new answer: earlier replies' [n] stop being links, since the cards
    they pointed to are replaced (chat/render.py retire_links)."""
    from chat.render import retire_links

    return [
        {**m, "content": retire_links(m["content"])} if m.get("role") == "assistant" else m
        for m in (history or [])
    ]


def ask_options(k, mode, cities, date_from, date_to, sections, precedent, drop=()):
    """The page's settings as the Assistant's AskOptions."""
    from chat.service import AskOptions

    return AskOptions(
        int(k),
        mode,
        tuple(cities or ()),
        date_from or "",
        date_to or "",
        tuple(sections or ()),
        tuple(drop),
        precedent,  # None: the wording decides; True / False: the 查先例 box
    )


def answer_outputs(assistant, gr, exports_root, record, history, state):
    """What every answer updates: chat, cards, the understood parts, downloads, state."""
    from chat.render import answer_mode, cards_html
    from chat.service import public

    files = assistant.export_files(record, exports_root.new_folder())
    record = public(record)
    records = dict(state.get("records") or {})
    records[len(history) - 1] = record
    parts = (record.get("understood") or {}).get("parts") or []
    last = dict(state.get("last") or {})
    known = {key: label for label, key in last.get("parts", [])}
    known.update({part["key"]: part["label"] for part in parts})
    choices = [(label, key) for key, label in known.items()]
    # the boxes carry the Chinese labels (Gradio shows a value as the tooltip); state maps a
    # label back to its key ("place:达州市") when one is unticked
    understood = gr.update(
        choices=[label for label, _ in choices],
        value=[p["label"] for p in parts],
        visible=bool(choices),
    )
    downloads = [
        gr.update(value=str(files[f]), visible=True) if f in files else gr.update(visible=False)
        for f in ("md", "csv", "docx")
    ]
    last["parts"] = choices
    state = {**state, "previous": record["query"], "records": records, "last": last}
    list_box = gr.update(value=answer_mode(record) == "查先例")  # the mode this answer used
    return [history, cards_html(record), understood, *downloads, list_box, state]


def page_layout(assistant, gr, full_text_html) -> SimpleNamespace:
    """The page's components (inside gr.Blocks): the chat and its settings on the left, the
    passage cards and the export buttons on the right."""
    with gr.Column(elem_id="page"):  # CARDS_JS marks it .stacked on a phone
        summary = assistant.corpus_summary()
        gr.Markdown(f"## 简报助手 · 《四川省地方志工作简报》\n{summary}。{INTRO}", elem_id="intro")
        ui = SimpleNamespace(state=gr.State(dict(EMPTY_STATE)))
        with gr.Row():
            with gr.Column(scale=5):
                chat_column(ui, assistant, gr)
            with gr.Column(scale=6):
                cards_column(ui, gr, full_text_html)
    return ui


def chat_column(ui: SimpleNamespace, assistant, gr) -> None:
    """The chat, the understood parts, the question, 查先例, examples, 筛选, 新对话."""
    ui.chatbot = gr.Chatbot(
        label="对话",
        height=460,
        elem_id="chat",
        buttons=["copy"],
        feedback_options=("Like", "Dislike"),
        sanitize_html=True,
    )
    ui.understood = gr.CheckboxGroup(
        [],
        label="理解为（取消勾选即去掉该条件，重新检索）",
        visible=False,
        elem_id="understood",
    )
    with gr.Row():
        ui.question = gr.Textbox(
            label="问题",
            placeholder="例如：达州在年鉴质量方面做了什么决定？",
            scale=5,
            lines=1,
            max_lines=4,
            elem_id="question",
            autofocus=True,
        )
        ui.send = gr.Button("提问", variant="primary", scale=1, elem_id="send")
    ui.precedent = gr.Checkbox(
        label="查先例：列出全部相关条目，按市州分组",
        info="问“哪些市州…”时自动开启；勾选或取消即把当前问题改用或不用此方式重答",
        elem_id="precedent",
    )
    gr.Examples(EXAMPLES, inputs=ui.question, label="示例问题")
    with gr.Accordion("筛选", open=False):
        ui.cities = gr.Dropdown(assistant.cities(), multiselect=True, label="市州（含所辖县市区）")
        with gr.Row():
            ui.date_from = gr.Textbox(label="起始日期", placeholder="2022 或 2022-11 或 2022-11-02")
            ui.date_to = gr.Textbox(label="截止日期", placeholder="2024-03")
        ui.sections = gr.Dropdown(assistant.sections(), multiselect=True, label="栏目")
        ui.k = gr.Slider(1, 10, value=5, step=1, label="段落数")
        with gr.Accordion("高级", open=False):
            ui.mode = gr.Radio(
                SEARCH_MODES,
                value="hybrid",
                label="检索方式",
                info="综合：字词与意思结合（推荐）；关键词：只按字词匹配；语义：只按意思相近",
            )
    ui.clear = gr.Button("新对话", size="sm")


def cards_column(ui: SimpleNamespace, gr, full_text_html) -> None:
    """The export buttons over the passage cards."""
    from chat.render import CARDS_JS, cards_html

    with gr.Row():
        ui.download_md = gr.DownloadButton(
            "导出 Markdown", visible=False, size="sm", elem_id="export-md"
        )
        ui.download_csv = gr.DownloadButton(
            "导出 CSV", visible=False, size="sm", elem_id="export-csv"
        )
        ui.download_docx = gr.DownloadButton(
            "导出 Word", visible=False, size="sm", elem_id="export-docx"
        )
    ui.cards = gr.HTML(
        cards_html(None),
        elem_id="cards",
        js_on_load=CARDS_JS,
        server_functions=[full_text_html],
    )


def wire_events(ui: SimpleNamespace, handlers: SimpleNamespace) -> None:
    """Connect the components to the handlers (inside gr.Blocks)."""
    import gradio as gr

    settings = [ui.cities, ui.date_from, ui.date_to, ui.sections, ui.k, ui.mode]
    shown = [
        ui.chatbot,
        ui.cards,
        ui.understood,
        ui.download_md,
        ui.download_csv,
        ui.download_docx,
        ui.precedent,
    ]
    # One limit for everything that searches (2 cores): the page's questions and the API share
    # it. The chat itself says 正在检索…, so no progress overlay covers the page.
    answering = {
        "concurrency_limit": 4,
        "concurrency_id": "answer",
        "show_progress": "hidden",
        "api_visibility": "private",
    }
    answers = []
    for asked in (ui.send.click, ui.question.submit):
        # through the queue like everything else, so a click's events keep their order (新对话
        # after a question) and its notices reach the page
        answers.append(
            asked(
                handlers.show_pending,
                [ui.question, ui.chatbot, ui.state],
                [ui.chatbot, ui.question, ui.understood, ui.state],
                show_progress="hidden",
                api_visibility="private",
            ).then(
                handlers.respond,
                [ui.chatbot, ui.state, *settings],
                [*shown, ui.state],
                **answering,
            )
        )
    ui.understood.input(
        handlers.refine,
        [ui.understood, ui.chatbot, ui.state, *settings],
        [*shown, ui.state],
        **answering,
    )
    ui.precedent.input(
        handlers.switch_list_mode,
        [ui.precedent, ui.chatbot, ui.state, *settings],
        [*shown, ui.state],
        **answering,
    )
    ui.chatbot.like(handlers.vote, [ui.state], None, api_visibility="private")
    for cleared in (ui.clear.click, ui.chatbot.clear):
        cleared(
            handlers.new_conversation,
            None,
            [*shown, ui.question, ui.state],
            api_visibility="private",
            cancels=answers,  # an answer still coming belongs to the conversation cleared
        )
    gr.api(handlers.ask_api, api_name="ask", concurrency_limit=4, concurrency_id="answer")


def open_or_build_sample(index_dir: Path, llm):
    """Open the index; build the bundled sample bulletins into it only when the folder is
    absent or empty. A folder with files but no usable index is the user's damaged index:
    the error names it and the repair command (IndexDamagedError), nothing is overwritten."""
    from chat.service import Assistant
    from index.store import IndexMissingError, has_content

    try:
        return Assistant.open(index_dir, llm=llm)
    except IndexMissingError:
        if has_content(index_dir):
            raise
    print(f"{index_dir} 还没有索引：先为随附的示例简报建立索引（{BUNDLED}）…", flush=True)
    from index.build import update_index

    update_index([BUNDLED], index_dir)
    return Assistant.open(index_dir, llm=llm)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python app.py", description="简报助手：网页问答，回答附引用原文。"
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("BULLETIN_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1: this machine only; $BULLETIN_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("BULLETIN_PORT", "7860")),
        help="port (default 7860; $BULLETIN_PORT)",
    )
    parser.add_argument(
        "--index", metavar="DIR", help="index folder (default data/index, or $BULLETIN_INDEX_DIR)"
    )
    args = parser.parse_args(argv)

    from answer.llm import LLMConfig
    from chat.http_guard import launch_app_kwargs
    from chat.page_text import PAGE_JS, gradio_i18n
    from chat.render import CSS
    from index.store import default_index_dir
    from ingest.cli_errors import exit_on_error

    index_dir = Path(args.index) if args.index else default_index_dir()
    with exit_on_error(ValueError):
        # index, embedder and settings problems: one line on stderr, status 2
        auth = parse_auth(os.environ.get("BULLETIN_AUTH"))
        llm = LLMConfig.from_env()
        assistant = open_or_build_sample(index_dir, llm)
    warning = open_network_warning(args.host, auth)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    page = build_app(assistant)
    page.queue(default_concurrency_limit=4)
    print(
        f"简报助手：{assistant.corpus_summary()}"
        + ("；已启用语言模型 " + llm.model if llm else ""),
        flush=True,
    )
    page.launch(
        server_name=args.host,
        server_port=args.port,
        auth=auth,
        # Gradio's login form shows nothing on the throttle's 429: say so beforehand.
        auth_message="请登录简报助手（连续输错 5 次后须稍候再试）" if auth else None,
        css=CSS,
        # Gradio's own words in Chinese too (chat/page_text.py)
        i18n=gradio_i18n(),
        js=PAGE_JS,
        footer_links=["api"],
        show_error=True,
        # security headers on every response, a throttle on failed logins (chat/http_guard.py)
        app_kwargs=launch_app_kwargs(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
