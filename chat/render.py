"""HTML for the web chat: the reply, the passage cards, the full bulletin.

Every piece of document or user text goes through `html.escape` here and nowhere is
it inserted raw: a bulletin that contains "<script>" shows those characters as text.
Highlights are offsets into the passage (or bulletin) text, so escaping happens per
segment, never on markup we produced.
"""

from __future__ import annotations

import html
import re

from answer.citation import bulletin_date_label, date_label
from answer.precedent import RELATED
from answer.terms import written_in_english

_MARKER = re.compile(r"\[(\d{1,2})\]")


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~$])")  # $: KaTeX in the chat bubble


def esc_markdown(text: object) -> str:
    """For the chat bubble, which renders Markdown: HTML-escaped, Markdown's own characters
    backslash-escaped so "*" or "[x](y)" in a question or a bulletin stay text, and what the
    chat would turn into a link by itself (http://…, www.…, a@b) broken with an entity."""
    escaped = esc(_MARKDOWN_SPECIAL.sub(r"\\\1", "" if text is None else str(text)))
    return _AUTOLINK.sub(lambda m: _AUTOLINK_BREAK[m.group()], escaped)


# what starts a link in GFM (scheme://, www., an e-mail's @) with that one character written
# as an entity: it shows the same and is never linked
_AUTOLINK = re.compile(r":(?=//)|(?<=www)\.|(?<=\w)@(?=\w)", re.IGNORECASE)
_AUTOLINK_BREAK = {":": "&#58;", ".": "&#46;", "@": "&#64;"}


def marked(
    text: str,
    spans: list[tuple[int, int]] | list[list[int]],
    css: str = "hl",
    first_id: str | None = None,
) -> str:
    """`text` escaped, with each (start, end) span wrapped in <mark class=css>."""
    out, cursor = [], 0
    for number, (start, end) in enumerate(sorted((max(0, s), min(len(text), e)) for s, e in spans)):
        if start < cursor or start >= end:
            continue  # overlapping or empty: the first one wins
        ident = f' id="{esc(first_id)}"' if first_id and number == 0 else ""
        out.append(esc(text[cursor:start]))
        out.append(f'<mark class="{css}"{ident}>{esc(text[start:end])}</mark>')
        cursor = end
    out.append(esc(text[cursor:]))
    return "".join(out)


def reply_markdown(record: dict) -> str:
    """The chat bubble: the answer with its [n] markers as links to the cards (or the plain
    "not found"), then which mode answered and a link down to the cards (for phones, where
    they sit below the chat)."""
    question = record.get("question") or ""
    english = bool(question.strip()) and written_in_english(question)
    lines = [f"*{esc_markdown(n)}*" for n in record.get("notices", [])]
    if record["found"]:
        if english:
            lines.append(f"*{ENGLISH_LEAD}*")
        parts = _MARKER.split(record["answer"])  # text, number, text, number, ...
        lines.append(
            "".join(
                esc_markdown(part) if i % 2 == 0 else cite_link(int(part))
                for i, part in enumerate(parts)
            )
        )
        if record.get("answer_source") == "llm":
            lines.append("*（由语言模型根据以上段落撰写，请核对原文）*")
    else:
        if english:
            lines.append(f"*{ENGLISH_NOT_FOUND}*")
        lines.append(esc_markdown(record["not_found_message"]))
    lines.append(_footer(record))
    return "\n\n".join(lines)


# English questions get Chinese quotes (the bulletins' own words): one line says so
ENGLISH_LEAD = "Quoted from the bulletins in the original Chinese; [n] opens the source passage."
ENGLISH_NOT_FOUND = "Not found in the bulletins (details in Chinese below)."


def cite_link(number: int) -> str:
    """A reply's [n]: a link that scrolls to card n and flashes it (CARDS_JS)."""
    return f'<a class="cite-ref" href="#card-{number}" title="查看第{number}段原文">[{number}]</a>'


_LINKS = re.compile(r'<a class="cite-ref" href="#card-(\d+)"[^>]*>\[\d+\]</a>')
_JUMP = re.compile(r' ?<a class="jump-cards"[^>]*>[^<]*</a>')


def retire_links(content):
    """An earlier reply once a new answer replaced the cards: its [n] are plain text (with a
    tooltip saying why) and its link down to the cards goes. Gradio may hand a message back
    as a string or as a list of text parts."""
    if isinstance(content, list):
        return [
            {**part, "text": retire_links(part["text"])}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    if not isinstance(content, str):
        return content
    old = r'<span class="cite-old" title="这条回答的原文段落已换成最新回答的">[\1]</span>'
    return _JUMP.sub("", _LINKS.sub(old, content))


def answer_mode(record: dict) -> str:
    """Which mode answered: a precedent list (查先例) or a quoted answer (问答)."""
    return "查先例" if record.get("precedent") and record["found"] else "问答"


def _footer(record: dict) -> str:
    mode = (
        "回答方式：查先例（按市州列出全部相关条目）"
        if answer_mode(record) == "查先例"
        else "回答方式：问答（摘录原文）"
    )
    jump = (
        '<a class="jump-cards" href="#cards">查看引用的原文段落 ↓</a>'
        if record.get("results")
        else ""
    )
    return f'<span class="reply-mode">{mode}</span>' + (f" {jump}" if jump else "")


def cited_numbers(record: dict) -> set[int]:
    """The card numbers the reply cites with [n]."""
    if not record.get("found"):
        return set()
    return {int(n) for n in _MARKER.findall(record.get("answer") or "")}


def card_html(result: dict, number: int, cited: bool = False) -> str:
    when = bulletin_date_label(result.get("date"), result.get("date_estimate"))
    # the number leads back to where the reply cites it (CARDS_JS)
    head = [
        f'<a class="num back-ref" href="#chat" title="回到回答">[{number}]</a>',
        f'<span class="date">{esc(when)}</span>',
    ]
    if cited:
        head.append('<span class="cited-tag">回答引用</span>')
    if result.get("issue_no"):
        head.append(f'<span class="issue">{esc(result["issue_no"])}</span>')
    if result.get("section"):
        head.append(f'<span class="section">【{esc(result["section"])}】</span>')
    if result.get("pages"):
        pages = result["pages"]
        last = "—" + esc(pages[-1]) if pages[-1] != pages[0] else ""
        head.append(f'<span class="pages">第{esc(pages[0])}{last}页</span>')
    if result.get("ocr"):  # read from a scan: a character may be misread, so check the original
        head.append(
            '<span class="ocr" title="此段文字由OCR从扫描件识别，可能有识别错误，请核对原件">'
            "OCR识别</span>"
        )
    meta = []
    if result.get("source_org"):
        meta.append(f"来源：{esc(result['source_org'])}")
    tags = "".join(f'<span class="tag">{esc(p)}</span>' for p in result.get("places") or [])
    if tags:
        meta.append(f"地点：{tags}")
    passage = marked(result.get("passage") or result["text"], result.get("highlights") or [])
    chunk_id, cite = esc(result["chunk_id"]), esc(result["citation"])
    return (
        f'<div class="card" id="card-{number}" data-chunk="{chunk_id}">'
        f'<div class="card-head">{" ".join(head)}</div>'
        f'<div class="card-title">{esc(result.get("title") or "（无标题）")}</div>'
        + (f'<div class="card-meta">{" · ".join(meta)}</div>' if meta else "")
        + f'<div class="passage">{passage}</div>'
        '<div class="citation"><span class="cite-label">引用：</span>'
        f'<span class="cite-text">{cite}</span></div>'
        '<div class="actions">'
        f'<button class="copy-cite" type="button" data-cite="{cite}">复制引用</button>'
        f'<button class="open-full" type="button" data-chunk="{chunk_id}">查看全文</button></div>'
        "</div>"
    )


def cards_html(record: dict | None) -> str:
    if not record or not record.get("results"):
        return '<div class="cards-empty">提问后，这里显示引用的原文段落。</div>' + _panel()
    cited = cited_numbers(record)
    heading = _cards_heading(record, cited)
    precedent = record.get("precedent")
    cards, group = [], None
    for number, result in enumerate(record["results"], 1):
        if precedent and result.get("group") != group:  # precedent lists are grouped by 市州
            group = result.get("group")
            css = "group-heading related" if group == RELATED else "group-heading"
            cards.append(f'<div class="{css}">{esc(_group_name(precedent, group))}</div>')
        cards.append(card_html(result, number, number in cited))
    cards = "".join(cards)
    css = "cards" if record["found"] else "cards maybe"
    return f'<div class="{css}"><div class="cards-heading">{heading}</div>{cards}</div>' + _panel()


def _cards_heading(record: dict, cited: set[int]) -> str:
    """Says what the cards are: the list's count, the passages the reply cites (marked
    回答引用 on their cards) and the others, or only possibly related ones."""
    if not record["found"]:
        return "可能相关的原文段落（未找到确切答案）"
    precedent = record.get("precedent")
    if precedent:
        return f"先例：{esc(precedent['summary'])}"
    total = len(record["results"])
    if not cited:
        return "检索到的原文段落"
    if len(cited) >= total:
        return "回答引用的原文段落"
    rest = total - len(cited)
    return f"检索到的原文段落：回答引用其中{len(cited)}段（标“回答引用”），其余{rest}段供参考"


def _group_name(precedent: dict, group: str | None) -> str:
    if group == RELATED:
        return f"{RELATED}（只提及，未见写明做了此事） · {len(precedent.get('related', []))}条"
    for g in precedent.get("groups", []):
        if g.get("city") == group or g.get("name") == group:
            listed = g["name"] + (f"（{'、'.join(g['counties'])}）" if g.get("counties") else "")
            return f"{listed} · {g['count']}条"
    return group or "地点不详"


def _panel() -> str:
    return '<div class="fulltext-panel" hidden></div>'


def full_text_html(full: dict) -> str:
    """The whole cleaned bulletin with the cited passage marked (id="cited-passage")."""
    when = date_label(full.get("date"), full.get("date_estimate"))
    title = " ".join(x for x in (full.get("issuer"), full.get("issue_no"), when) if x)
    body = marked(
        full["text"], [(full["start"], full["end"])], css="cited", first_id="cited-passage"
    )
    return (
        f'<div class="fulltext" data-chunk="{esc(full["chunk_id"])}">'
        f'<div class="fulltext-head"><b>查看全文</b> · 《四川省地方志工作简报》{esc(title)}'
        f'<button class="close-full" type="button">关闭</button></div>'
        + (
            f'<div class="fulltext-cite">引用：{esc(full["citation"])}</div>'
            if full.get("citation")
            else ""
        )
        + f'<div class="fulltext-body">{body}</div></div>'
    )


# Runs in the browser once the cards component loads: copy a citation, open or close the
# full text (fetched from the server by chunk id), scroll the cited passage into view.
CARDS_JS = """
const flash = (el) => {
  el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash');
  setTimeout(() => el.classList.remove('flash'), 1600);
};
// The reply's [n] (in the chat) scrolls to card n and flashes it; the card's own [n] scrolls
// back to the last place the reply cites it; 查看引用 (phones) jumps down to the cards.
if (!window.__bulletinRefs) {
  window.__bulletinRefs = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a.cite-ref, a.back-ref, a.jump-cards');
    if (!link) return;
    event.preventDefault(); event.stopPropagation();
    let target = null;
    if (link.classList.contains('cite-ref')) {  // the chat's sanitiser keeps href, not data-*
      target = document.querySelector(link.getAttribute('href'));
    } else if (link.classList.contains('back-ref')) {
      const refs = document.querySelectorAll(
        '#chat a.cite-ref[href="#' + link.closest('.card').id + '"]');
      target = refs.length ? refs[refs.length - 1] : document.getElementById('chat');
    } else {
      target = document.getElementById('cards');
    }
    if (!target) return;
    // the cards' top for 查看引用 (a long list would land mid-way), a marker or card centred
    const jump = link.classList.contains('jump-cards');
    target.scrollIntoView({block: jump ? 'start' : 'center', behavior: 'smooth'});
    flash(target);
  }, true);
}
// Gradio stacks the two columns when the window is narrow: say so on the page
const chatBox = document.getElementById('chat'), pageBox = document.getElementById('page');
const stacked = () => {
  if (!chatBox || !pageBox) return;
  const below = element.getBoundingClientRect().top >= chatBox.getBoundingClientRect().bottom;
  pageBox.classList.toggle('stacked', below);
};
new ResizeObserver(stacked).observe(pageBox || document.body);
stacked();
element.addEventListener('click', async (event) => {
  const copy = event.target.closest('button.copy-cite');
  if (copy) {
    const text = copy.dataset.cite;
    try { await navigator.clipboard.writeText(text); }
    catch (e) {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area);
      area.select(); document.execCommand('copy'); area.remove();
    }
    copy.textContent = '已复制'; setTimeout(() => { copy.textContent = '复制引用'; }, 1500);
    return;
  }
  const panel = element.querySelector('.fulltext-panel');
  if (event.target.closest('button.close-full')) {
    panel.hidden = true; panel.innerHTML = ''; return;
  }
  const open = event.target.closest('button.open-full');
  if (open) {
    panel.hidden = false;
    panel.innerHTML = '<div class="fulltext-loading">正在打开全文…</div>';
    try { panel.innerHTML = await server.full_text_html(open.dataset.chunk); }
    catch (e) {
      panel.innerHTML = '<div class="fulltext-error">无法打开全文，请重新提问后再试。</div>';
      return;
    }
    panel.scrollIntoView({block: 'start'});
    const cited = panel.querySelector('#cited-passage');
    if (cited) cited.scrollIntoView({block: 'center'});
  }
});
"""

CSS = """
.cards-heading { font-weight: 600; margin: 4px 0 8px; }
.group-heading { font-weight: 600; color: #0550ae; margin: 12px 0 6px;
  border-bottom: 1px solid #d0d7de; }
.group-heading.related { color: #6e7781; border-top: 1px dashed #d0d7de; padding-top: 10px;
  margin-top: 18px; }
.cards.maybe .cards-heading { color: #a15c00; }
.fulltext-missing { color: #a15c00; padding: 8px 0; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;
  background: #fff; }
.card-head { color: #57606a; font-size: 0.9em; }
.card-head .num { font-weight: 700; color: #0969da; text-decoration: none; }
.card-head .cited-tag { font-size: 0.85em; color: #1a7f37; border: 1px solid #4ac26b;
  border-radius: 4px; padding: 0 4px; }
a.cite-ref { text-decoration: none; font-weight: 600; }
.cite-old { color: #6e7781; }
.flash { animation: flash 1.5s ease-out; }
@keyframes flash { 0%, 40% { background: #ffe08a; box-shadow: 0 0 0 3px #ffe08a; } }
.reply-mode { font-size: 0.85em; color: #57606a; }
/* when the cards sit below the chat (a phone; CARDS_JS sets #page.stacked) the header says
   下方 and the reply links down to them */
.stacked-only, a.jump-cards { display: none; }
#page.stacked .stacked-only, #page.stacked a.jump-cards { display: inline; }
#page.stacked .side-only { display: none; }
.card-head .ocr { font-size: 0.85em; color: #9a6700; border: 1px solid #d4a72c; border-radius: 4px;
  padding: 0 4px; }
.card-title { font-weight: 600; margin: 4px 0; }
.card-meta { font-size: 0.85em; color: #57606a; margin-bottom: 4px; }
.tag { display: inline-block; background: #ddf4ff; color: #0550ae; border-radius: 10px;
  padding: 0 8px; margin-right: 4px; }
.passage { line-height: 1.7; white-space: pre-wrap; }
mark.hl { background: #fff3b0; padding: 0 1px; }
.citation { font-size: 0.85em; color: #3a3a3a; margin-top: 6px; border-top: 1px dashed #d0d7de;
  padding-top: 4px; }
.actions button, .close-full { margin: 6px 8px 0 0; padding: 2px 10px; border: 1px solid #d0d7de;
  border-radius: 6px; background: #f6f8fa; cursor: pointer; }
.fulltext { border: 2px solid #0969da; border-radius: 8px; padding: 10px 12px; margin-top: 8px; }
.fulltext-head { margin-bottom: 6px; }
.fulltext-body { max-height: 60vh; overflow-y: auto; white-space: pre-wrap; line-height: 1.8; }
mark.cited { background: #ffe08a; }
"""
