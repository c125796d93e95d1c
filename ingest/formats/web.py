"""Saved web pages (HTML) -> the article's blocks, without menus, sidebars, footers or scripts.

A bulletin saved from the office's website or a WeChat article sits in one
element among navigation, breadcrumbs, "related links", share buttons and the
site footer. The article element is found as in Readability: every text
paragraph credits its parent (and half to its grandparent) with its length,
not counting link text, and the best-credited element wins. A WeChat article
(<div id="js_content">) is taken directly. Every paragraph inside is kept, even
a short one such as "（省地方志办）": the parser needs them all.

Chosen over trafilatura by measurement on our test pages (README "Formats"):
both kept every bulletin paragraph, but trafilatura also kept WeChat page
chrome ("微信扫一扫", "继续滑动看下一个") and pulls in a dozen packages.
"""

from __future__ import annotations

import re

from ingest.errors import DamagedFileError, EmptyFileError, NoContentError
from ingest.formats.blocks import Block

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "canvas",
    "form",
    "button",
    "select",
    "textarea",
    "input",
    "nav",
    "aside",
    "footer",
    "head",
    "object",
    "embed",
)
BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "center",
    "figure",
    "figcaption",
    "address",
    "hr",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_PARAGRAPH_TAGS = {"p", "pre", "td", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "div"}
# Boilerplate inside an article container: share bars, prev/next links, tags, QR codes.
_BOILERPLATE = re.compile(
    r"(^|[\s_-])(nav|menu|footer|sidebar|breadcrumb|crumb|share|comment|related|prev|next|"
    r"pagination|pager|toolbar|copyright|qr|qrcode|tags|banner|login|search|print|"
    r"rich_media_tool|rich_media_area_extra|js_pc_qr_code|js_tags)($|[\s_-])",
    re.I,
)
_CJK = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_WRAP_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\r\n]*\n[ \t\r\n]*(?=[{_CJK}])")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.I)
MIN_PARAGRAPH_CHARS = 10  # a paragraph shorter than this does not vote for its container


def read_html(data: bytes, name: str) -> list[Block]:
    import lxml.html
    from lxml import etree

    text = decode_html(data, name)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise DamagedFileError(name, f"无法解析 HTML / cannot parse the HTML ({exc})") from None
    title = _page_title(root)
    for element in root.iter(*_DROP_TAGS):
        if element.getparent() is not None:
            _drop(element)
    etree.strip_elements(root, etree.Comment, with_tail=False)
    container = article_element(root)
    if container is None:
        raise NoContentError(name, "网页中没有找到正文 / no article text found in the web page")
    for element in list(container.iter()):
        if (
            element is not container
            and _is_boilerplate(element)
            and element.getparent() is not None
        ):
            _drop(element)
    blocks = blocks_of(container)
    if title and not container.xpath(".//h1") and (not blocks or blocks[0].text.strip() != title):
        blocks.insert(0, Block(title, heading=True))
    return blocks


def decode_html(data: bytes, name: str) -> str:
    """The page's declared charset first (gb2312/gbk read as its superset gb18030), else UTF-8, else
    GB18030."""
    if not data.strip():
        raise EmptyFileError(name, "文件为空 / file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        charset = declared.group(1).decode("ascii").lower()
        charset = "gb18030" if charset in ("gb2312", "gbk", "gb18030", "x-gbk") else charset
        try:
            return data.decode(charset, errors="replace")
        except LookupError:
            pass  # an unknown charset name: detect below
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _drop(element) -> None:
    """Remove an element but keep its tail text (the text after it belongs to the parent)."""
    element.drop_tree()


def _is_boilerplate(element) -> bool:
    if not isinstance(element.tag, str):
        return False
    marks = f"{element.get('class', '')} {element.get('id', '')}"
    return bool(marks.strip()) and bool(_BOILERPLATE.search(marks))


def _page_title(root) -> str | None:
    """The article's title: og:title, else an <h1> that is not a logo link, else <title> without the
    site name."""
    candidates = root.xpath("//meta[@property='og:title']/@content")
    candidates += [h.text_content() for h in root.iter("h1") if _own_text_length(h) > 0]
    candidates += [t.text_content() for t in root.iter("title")]
    for value in candidates:
        value = re.split(r"\s*[_|]\s*|\s+-\s+", " ".join(value.split()))[0]
        if value:
            return value
    return None


def _own_text_length(element) -> int:
    """Characters of text in the element, not counting link text."""
    total = len(re.sub(r"\s+", "", element.text_content()))
    links = sum(len(re.sub(r"\s+", "", a.text_content())) for a in element.iter("a"))
    return total - links


def article_element(root):
    wechat = root.xpath("//*[@id='js_content']")
    if wechat:
        return wechat[0]
    scores: dict = {}
    for element in root.iter(*_PARAGRAPH_TAGS):
        if element.tag in ("div", "section") and any(child.tag in BLOCK_TAGS for child in element):
            continue  # a wrapper, not a paragraph
        length = _own_text_length(element)
        if length < MIN_PARAGRAPH_CHARS:
            continue
        score = length + 10 * element.text_content().count("，")
        parent = element.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + score
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0) + score / 2
    if not scores:
        body = root.find("body")
        return body if body is not None and _own_text_length(body) else None
    return max(scores, key=scores.get)


def blocks_of(container) -> list[Block]:
    """Block elements and <br> end a block; a block is a heading if it is <h1>-<h6> or bold
    throughout."""
    blocks: list[Block] = []
    pieces: list[tuple[str, bool, bool]] = []  # (text, bold, in a heading)

    def flush() -> None:
        text = "".join(p[0] for p in pieces).strip()
        if text:
            visible = [p for p in pieces if p[0].strip()]
            heading = any(p[2] for p in visible) or all(p[1] for p in visible)
            blocks.append(Block(text, heading))
        pieces.clear()

    def add(text: str | None, bold: bool, heading: bool) -> None:
        if text:
            # a source line break between Chinese characters is not a space
            text = _WRAP_BETWEEN_CJK.sub("", text)
            pieces.append((re.sub(r"\s+", " ", text), bold, heading))

    def walk(element, bold: bool, heading: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        is_block = tag in BLOCK_TAGS
        if is_block or tag == "br":
            flush()
        bold = (
            bold
            or tag in ("strong", "b")
            or bool(_BOLD_STYLE.search(element.get("style", "") or ""))
        )
        heading = heading or tag in _HEADINGS
        if tag:
            add(element.text, bold, heading)
            for child in element:
                walk(child, bold, heading)
                add(child.tail, bold, heading)  # text after a child belongs to this element
        if is_block:
            flush()

    walk(container, False, False)
    flush()
    return blocks
