"""Build PDF, DOCX, HTML and Markdown versions of the bundled bulletins at test time.

Each builder starts from the bulletin's own TXT so that the other formats carry
exactly the same content; the tests then compare what the parser makes of them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.cleaning import physical_lines

PDF_FONT = "STSong-Light"  # reportlab's built-in CJK CID font: no font file needed
RUNNING_HEADER = "四川省地方志工作简报"
_SPACE = re.compile(r"\s+")


def original_lines(txt_path: Path) -> list[str]:
    """The bulletin's printed lines (~30 characters each), as the original PDF laid them out."""
    return physical_lines(txt_path.read_text(encoding="utf-8"))


@dataclass
class PdfLayout:
    """Where each body line went: for checking the page numbers chunks carry."""

    pages: list[list[str]] = field(default_factory=list)  # body lines per page (no header/footer)

    def page_of_chars(self) -> tuple[str, list[int]]:
        """All body text without whitespace, and the page (1-based) of each character."""
        chars, pages = [], []
        for number, lines in enumerate(self.pages, start=1):
            for line in lines:
                for char in _SPACE.sub("", line):
                    chars.append(char)
                    pages.append(number)
        return "".join(chars), pages

    def pages_of(self, text: str) -> list[int]:
        """Pages spanned by a passage (found by its characters, whitespace ignored)."""
        stream, pages = self.page_of_chars()
        needle = _SPACE.sub("", text)
        at = stream.find(needle)
        if at < 0:
            raise AssertionError(f"passage not in the PDF body: {text[:40]!r}")
        return sorted(set(pages[at : at + len(needle)]))


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


def write_pdf(
    lines: list[str],
    out: Path,
    *,
    lines_per_page: int = 24,
    footer: str = "dash",
    header: str | None = RUNNING_HEADER,
    encrypt=None,
) -> PdfLayout:
    """An A4 PDF with a text layer: a page number on every page, a running header from page 2
    (page 1 carries the bulletin's own masthead, as printed bulletins do).

    footer: "dash" prints "- 3 -", "cn" prints "第3页"; encrypt: a reportlab
    StandardEncryption (or a password string) to make an encrypted PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    _register_font()
    pdf = canvas.Canvas(str(out), pagesize=A4, encrypt=encrypt)
    width, height = A4
    layout = PdfLayout()
    for start in range(0, len(lines), lines_per_page):
        number = len(layout.pages) + 1
        body = lines[start : start + lines_per_page]
        layout.pages.append(body)
        if header and number > 1:
            pdf.setFont(PDF_FONT, 9)
            pdf.drawCentredString(width / 2, height - 40, header)
        y = height - 80
        for line in body:
            # A long URL is set smaller so that it stays on the page, as a word processor would.
            size = min(15.0, (width - 100) / max(stringWidth(line, PDF_FONT, 1), 1))
            pdf.setFont(PDF_FONT, size)
            pdf.drawString(60, y, line)
            y -= 28
        pdf.setFont(PDF_FONT, 9)
        pdf.drawCentredString(
            width / 2, 30, f"- {number} -" if footer == "dash" else f"第{number}页"
        )
        pdf.showPage()
    pdf.save()
    return layout


def write_scanned_pdf(out: Path) -> None:
    """A PDF whose pages are only pictures (as a scanner makes them): no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    picture = Image.new("L", (400, 560), 255)
    draw = ImageDraw.Draw(picture)
    for row in range(30, 540, 18):  # grey bars where the printed lines were
        draw.rectangle((30, row, 370, row + 8), fill=60)
    pdf = canvas.Canvas(str(out), pagesize=A4)
    for _ in range(2):
        pdf.drawImage(ImageReader(picture), 0, 0, width=A4[0], height=A4[1])
        pdf.showPage()
    pdf.save()


# -- structured formats, from the parsed TXT ---------------------------------


@dataclass(frozen=True)
class Block:
    text: str
    kind: str  # "title" | "section" | "para"


def bulletin_blocks(parsed) -> list[Block]:
    """The bulletin as an author would type it in Word: titles, section markers, paragraphs.

    Titles come from the TXT parse (a two-line printed title is one paragraph)."""
    bulletin = parsed.bulletin
    titles = {(i.title_span.start, i.title_span.end) for i in bulletin.items if i.title}
    blocks, offset = [], 0
    for line in bulletin.text_clean.split("\n"):
        span = (offset, offset + len(line))
        offset += len(line) + 1
        if span in titles:
            blocks.append(Block(line, "title"))
        elif re.fullmatch(r"【[^】]+】", line):
            blocks.append(Block(line, "section"))
        else:
            blocks.append(Block(line, "para"))
    return blocks


def write_docx(blocks: list[Block], out: Path, *, titles_as: str = "bold") -> None:
    """titles_as: "bold" (a bold normal paragraph) or "heading" (Word's Heading 2 style)."""
    from docx import Document

    document = Document()
    for block in blocks:
        if block.kind == "title" and titles_as == "heading":
            document.add_heading(block.text, level=2)
        elif block.kind == "title":
            document.add_paragraph().add_run(block.text).bold = True
        else:
            document.add_paragraph(block.text)
    document.save(str(out))


def write_docx_lines(lines: list[str], out: Path) -> None:
    """PDF text pasted into Word: one paragraph per printed line."""
    from docx import Document

    document = Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(out))


def write_markdown(blocks: list[Block], out: Path) -> None:
    parts = [f"## {b.text}" if b.kind == "title" else b.text for b in blocks]
    out.write_text("\n\n".join(parts) + "\n", encoding="utf-8")


_NAV = """
<div class="top-bar"><a href="/">首页</a> | <a href="/gk">政务公开</a> | <a href="/fw">政务服务</a> | <a href="/hd">互动交流</a></div>
<ul class="nav menu"><li><a href="/xw">新闻中心</a></li><li><a href="/dfz">方志动态</a></li><li><a href="/nj">年鉴编纂</a></li><li><a href="/jb">工作简报</a></li></ul>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/jb">工作简报</a> &gt; 正文</div>
"""  # noqa: E501  (a saved page's long lines, kept as saved)
_SIDEBAR = """
<div class="sidebar"><h3>相关链接</h3><ul>
<li><a href="/a1">四川省人民政府</a></li><li><a href="/a2">中国地方志指导小组办公室</a></li>
<li><a href="/a3">关于开展地方志工作质量提升行动的通知</a></li><li><a href="/a4">省地方志办召开理论学习中心组学习会</a></li></ul></div>
"""  # noqa: E501  (as saved)
_FOOTER = """
<div class="footer"><p>主办单位：四川省地方志工作办公室　地址：成都市青羊区某某路1号</p>
<p>网站标识码：5100000000　蜀ICP备00000000号　川公网安备 51000000000000号</p><p>技术支持：某某信息技术有限公司</p></div>
<script>var _hmt = _hmt || []; document.write("统计代码：访问量");</script>
<style>.footer { color: #666 }</style>
"""  # noqa: E501  (as saved)


def _paragraphs_html(blocks: list[Block], title_tag: str) -> str:
    out = []
    for block in blocks:
        text = html.escape(block.text)
        if block.kind == "title":
            out.append(
                f"<{title_tag}>{text}</{title_tag}>"
                if title_tag.startswith("h")
                else f'<p style="text-align:center"><strong>{text}</strong></p>'
            )
        else:
            out.append(f'<p style="text-indent:2em">{text}</p>')
    return "\n".join(out)


def gov_page_html(blocks: list[Block], page_title: str) -> str:
    """A saved article page from a government site: menus, breadcrumb, sidebar, footer, scripts."""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(page_title)}_四川省地方志工作办公室</title>
<script src="/js/jquery.min.js"></script></head>
<body>
{_NAV}
<div class="main">
  <div class="article">
    <h1 class="title">{html.escape(page_title)}</h1>
    <div class="info">发布时间：2024-03-15 09:30　来源：综合处　浏览次数：1024　【字体：大 中 小】【打印】【关闭】</div>
    <div class="TRS_Editor" id="zoom">
{_paragraphs_html(blocks, "h3")}
    </div>
    <div class="share">分享到：微信 微博 QQ空间</div>
    <div class="prev-next"><p>上一篇：<a href="/p1">省地方志办开展年鉴编纂业务培训</a></p><p>下一篇：<a href="/p2">关于公布第三批地方志工作示范点的通知</a></p></div>
  </div>
  {_SIDEBAR}
</div>
{_FOOTER}
</body></html>"""  # noqa: E501  (as saved)


def wechat_html(blocks: list[Block], page_title: str) -> str:
    """A saved WeChat official-account article: the body is in <div id="js_content">."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta property="og:title" content="{html.escape(page_title)}">
<title>{html.escape(page_title)}</title><script>var biz = "MzI0"; var msg_title = "{html.escape(page_title)}";</script></head>
<body id="activity-detail" class="zh_CN">
<div class="rich_media_wrp">
  <h1 class="rich_media_title" id="activity-name">{html.escape(page_title)}</h1>
  <div id="meta_content" class="rich_media_meta_list">
    <span class="rich_media_meta rich_media_meta_text">方志四川</span>
    <a id="js_name">方志四川</a><em id="publish_time">2024-03-15 18:00</em>
  </div>
  <div class="rich_media_content js_underline_content" id="js_content" style="visibility: hidden;">
<section style="margin: 0 8px;">{_paragraphs_html(blocks, "strong")}</section>
  </div>
  <div id="js_tags">#地方志 #年鉴</div>
  <div class="rich_media_tool"><span>阅读 1024</span><span>在看 12</span><a>分享</a><a>收藏</a></div>
  <div id="js_pc_qr_code"><p>微信扫一扫<br>关注该公众号</p></div>
  <div class="rich_media_area_extra"><p>继续滑动看下一个</p><p>向上滑动看下一个</p></div>
</div>
<script>window.__INITIAL_STATE__ = {{"comment": "留言"}};</script>
</body></html>"""  # noqa: E501  (as saved)
