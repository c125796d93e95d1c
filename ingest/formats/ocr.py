"""Scanned pages (an image-only PDF, or a picture of a page) -> the bulletin's printed lines.

The engine is Tesseract with its Simplified Chinese model (Debian's tesseract-ocr and
tesseract-ocr-chi-sim), run as the `tesseract` command: nothing is downloaded, the model
comes with the Debian package. It was chosen over PP-OCR (rapidocr, models in the
wheel) by measurement (docs/ocr.md, bench/bench_ocr.py): on scanned bulletin pages
read at 200 dpi both got ~98% of the characters right, but PP-OCR now and then lost a
whole printed line, and it gave 3-4x fewer pages a minute on two cores.

The result has the shape `read_pdf` gives (ingest.formats.pdf.PdfText): hard-wrapped
lines, page by page, running header and page numbers removed, so the cleaner and the
parser treat a scan like a PDF with a text layer. Tesseract's habits are undone first:
spaces between Chinese characters, and ASCII ",;:()" where the page has "，；：（）".
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingest.errors import DamagedFileError, NeedsOcrError

LANG = "chi_sim"
INSTALL_HINT = "sudo apt-get install tesseract-ocr tesseract-ocr-chi-sim"
# Scanned pages are read at 200 dpi: Tesseract's Chinese model read a 300-dpi scan better
# when it was rendered at 200 dpi (0.981 of characters right) than at 300 (0.974), and faster.
DPI = 200
PSM = "6"  # one uniform block of text: a bulletin page is a single column
PAGE_TIMEOUT_S = 180  # one page takes a few seconds; far longer means something is wrong
DEFAULT_MAX_PAGES = 60  # a bulletin is a few pages; 60 scanned pages already take over a minute
ENV_MAX_PAGES = "BULLETIN_OCR_MAX_PAGES"
MIN_CHINESE_CHARS = 20  # fewer recognised on all pages together: there was no text to read
EDGE_LINES = 2

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2014\u2018-\u201d\u2026"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
# An ASCII mark with a Chinese character on one side (and no digit on the other: "1:2", "4.5"),
# with the spaces Tesseract puts around it ("深化 ; 签署").
_PUNCT_BESIDE_CJK = re.compile(
    rf"(?<=[{_CJK}]) *([,;:!?]) *(?!\d)|(?<!\d) *([,;:!?]) *(?=[{_CJK}])"
)
_PERIOD_AFTER_CJK = re.compile(rf"(?<=[\u4e00-\u9fff])\.(?=$|[{_CJK}])")
# Brackets: "（" is read as "(", "〈" or "《", "）" as ")", "〉" or "》". A pair holding Chinese,
# or with one full-width side, is the bulletin's "（…）": a source line "（省地方志办）" must
# read as one. "〈…〉" and "《…》" stay (titles).
_BRACKET_PAIR = re.compile(r"([(（〈《]) *([^()（）〈〉《》]*?) *([)）〉》])")
# a source line "（综合…" wrapped onto the next line
_LEADING_OPEN = re.compile(r"^[(〈](?=[\u4e00-\u9fff])")
_TRAILING_CLOSE = re.compile(r"(?<=[\u4e00-\u9fff])[)〉]$")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Page numbers as OCR reads them: "- 3 -" may come back as "一 3 一", "~3~", ".3" or just "，".
_OCR_PAGE_NUMBER = re.compile(r"^[-—–－一~·•_.,，。、:：;；'‘’\"“”|\s\d]{1,8}$")


def ocr_warning(pages: int) -> str:
    return (
        f"文字由OCR识别（{pages}页），可能有识别错误 / text read by OCR from {pages} scanned "
        "page(s); may contain recognition errors"
    )


# -- the engine -------------------------------------------------------------------


def find_tesseract() -> str | None:
    """Path of a `tesseract` that has the Chinese model, or None."""
    exe = shutil.which("tesseract")
    return exe if exe and LANG in _languages(exe) else None


@functools.cache
def _languages(exe: str) -> frozenset[str]:
    try:
        out = subprocess.run(
            [exe, "--list-langs"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def missing_engine_reason() -> str:
    """Why OCR cannot run here, and what to install."""
    exe = shutil.which("tesseract")
    what = (
        "已安装 tesseract，但缺少中文模型 chi_sim / tesseract is installed but its Chinese model "
        "(chi_sim) is not"
        if exe
        else "本机没有OCR引擎 tesseract / no OCR engine (tesseract) on this machine"
    )
    return f"{what}；请安装后重新导入 / install it and ingest again: {INSTALL_HINT}"


def _require_engine(name: str, reason: str) -> str:
    exe = find_tesseract()
    if exe is None:
        raise NeedsOcrError(name, f"{reason}；{missing_engine_reason()}")
    return exe


def max_pages() -> int:
    setting = os.environ.get(ENV_MAX_PAGES, "").strip()
    try:
        return max(1, int(setting)) if setting else DEFAULT_MAX_PAGES
    except ValueError:
        return DEFAULT_MAX_PAGES


# -- text clean-up ------------------------------------------------------------------


def tidy_ocr_text(text: str) -> str:
    """Undo Tesseract's spacing and ASCII punctuation inside Chinese text; one output line per
    printed line."""
    lines = []
    for line in text.replace("\f", "\n").split("\n"):
        line = _SPACE_IN_CJK.sub("", line.strip())
        line = _PUNCT_BESIDE_CJK.sub(lambda m: _HALF_TO_FULL[m.group(1) or m.group(2)], line)
        line = _PERIOD_AFTER_CJK.sub("。", line)
        line = _BRACKET_PAIR.sub(_bracket_pair, line)
        if "）" in line or "〉" not in line:
            line = _LEADING_OPEN.sub("（", line)
        if "（" in line or "〈" not in line:
            line = _TRAILING_CLOSE.sub("）", line)
        line = _SPACE_IN_CJK.sub("", line)  # spaces that sat beside a mark just made full-width
        if line:
            lines.append(line)
    return "\n".join(lines)


def _bracket_pair(match: re.Match) -> str:
    opener, inside, closer = match.groups()
    if opener + closer in ("〈〉", "《》", "〈》", "《〉") or not (
        _HAN.search(inside) or "（" in opener or "）" in closer
    ):
        return match.group()
    return f"（{inside}）"


def _drop_page_numbers(lines: list[str]) -> list[str]:
    """OCR-mangled page numbers at a page's top or bottom edge."""
    keep = [
        not (_OCR_PAGE_NUMBER.match(line) and (i < EDGE_LINES or i >= len(lines) - EDGE_LINES))
        for i, line in enumerate(lines)
    ]
    return [line for line, k in zip(lines, keep) if k]


def _assemble(pages: list[list[str]], name: str):
    from ingest.formats.pdf import PdfText, strip_running_lines

    chinese = sum(len(_HAN.findall(line)) for lines in pages for line in lines)
    if chinese < MIN_CHINESE_CHARS:
        raise NeedsOcrError(
            name,
            "需要OCR：扫描件经OCR仍未识别出文字（图片模糊、太小，或不是文字页）/ "
            "needs OCR: OCR found no readable Chinese text on the scanned page(s) "
            "(blurred or too small image, or no text)",
        )
    pages = strip_running_lines([_drop_page_numbers(lines) for lines in pages])
    parts, starts, offset = [], [], 0
    for lines in pages:
        starts.append(offset)
        for line in lines:
            parts.append(line)
            offset += len(line) + 1
    return PdfText("\n".join(parts), tuple(starts), len(pages), (ocr_warning(len(pages)),))


def _run_tesseract(exe: str, image_path: Path, dpi: int | None, name: str) -> str:
    cmd = [exe, str(image_path), "stdout", "-l", LANG, "--psm", PSM]
    if dpi:
        cmd += ["--dpi", str(dpi)]
    # One thread per process, pages side by side: with OpenMP on both cores a page took
    # 8 s instead of 3 (docs/ocr.md).
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=PAGE_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise NeedsOcrError(
            name, f"OCR 超时（一页超过 {PAGE_TIMEOUT_S} 秒）/ OCR timed out on a page"
        ) from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise NeedsOcrError(name, f"OCR 失败 / OCR failed: {detail[0][:200]}")
    return tidy_ocr_text(done.stdout.decode("utf-8", "replace"))


def _ocr_images(exe: str, images, dpi: int | None, name: str) -> list[list[str]]:
    """OCR PIL images (an iterable, one per page), two at a time on two cores; lines of each page.
    Each picture is written to a file as it comes, so only one page is held in memory."""
    with tempfile.TemporaryDirectory(prefix="bulletin-ocr-") as tmp:
        paths = []
        for number, image in enumerate(images, 1):
            path = Path(tmp) / f"page{number:04d}.png"
            image.save(path, format="PNG", compress_level=1)  # lossless, quick to write
            paths.append(path)
        workers = max(1, min(len(paths), os.cpu_count() or 1, 4))
        with ThreadPoolExecutor(workers) as pool:
            texts = list(pool.map(lambda p: _run_tesseract(exe, p, dpi, name), paths))
    return [text.split("\n") if text else [] for text in texts]


def _note_progress(name: str, pages: int) -> None:
    if pages > 2 and sys.stderr.isatty():
        print(
            f"OCR：{Path(name).name} 共{pages}页，每页约需数秒 / OCR of {pages} scanned pages, a "
            "few seconds each…",
            file=sys.stderr,
            flush=True,
        )


def _too_many_pages(name: str, pages: int, limit: int) -> NeedsOcrError:
    return NeedsOcrError(
        name,
        f"需要OCR：扫描件共 {pages} 页，超过OCR页数上限 {limit} 页（每页需数秒）；"
        f"如确需导入，请设置 {ENV_MAX_PAGES} / needs OCR: {pages} scanned pages exceed the "
        f"OCR limit of {limit}; raise it with {ENV_MAX_PAGES}",
    )


# -- the two readers -----------------------------------------------------------------


def ocr_pdf(data: bytes, name: str, reason: str = "需要OCR / needs OCR", dpi: int = DPI):
    """Text of a PDF without a usable text layer, read by OCR from its rendered pages.

    reason: why the text layer was not used (read_pdf's NeedsOcrError), repeated when
    OCR cannot run here."""
    import pypdfium2 as pdfium

    exe = _require_engine(name, reason)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise DamagedFileError(name, "PDF 文件已损坏或不完整 / damaged or truncated PDF") from None
    try:
        count, limit = len(document), max_pages()
        if count > limit:
            raise _too_many_pages(name, count, limit)
        _note_progress(name, count)
        pages = _ocr_images(exe, _rendered(document, dpi), dpi, name)
    except pdfium.PdfiumError:
        raise DamagedFileError(
            name,
            "PDF 页面无法读取，文件可能已损坏 / a page of the PDF cannot be read: damaged file",
        ) from None
    finally:
        document.close()
    return _assemble(pages, name)


def _rendered(document, dpi: int):
    """Each page as a grey picture at `dpi`."""
    for index in range(len(document)):
        page = document[index]
        try:
            yield page.render(scale=dpi / 72, grayscale=True).to_pil()
        finally:
            page.close()


def ocr_image(data: bytes, name: str):
    """Text of a picture of a bulletin page (PNG, JPEG, TIFF; a multi-page TIFF gives one page
    each)."""
    import io

    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    exe = _require_engine(
        name, "需要OCR：图片中的文字需要识别 / needs OCR: the text of a picture must be recognised"
    )
    try:
        picture = Image.open(io.BytesIO(data))
        frames = getattr(picture, "n_frames", 1)
        limit = max_pages()
        if frames > limit:
            raise _too_many_pages(name, frames, limit)
        _note_progress(name, frames)
        dpi = picture.info.get("dpi")
        dpi = float(dpi[0]) if dpi and 70 <= dpi[0] <= 1200 else None
        images = []
        for frame in ImageSequence.Iterator(picture):
            frame = ImageOps.exif_transpose(frame).convert("L")  # a phone photo taken sideways
            if dpi and dpi > DPI * 1.25:
                # a 300-dpi scan reads better at 200 dpi, as a PDF page does
                size = (round(frame.width * DPI / dpi), round(frame.height * DPI / dpi))
                frame = frame.resize(size, Image.LANCZOS)
            images.append(frame)
        dpi = round(min(dpi, DPI)) if dpi else None
    except NeedsOcrError:
        raise
    except Image.DecompressionBombError:
        raise DamagedFileError(
            name, "图片过大，无法识别 / the picture is too large to read"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DamagedFileError(
            name, "图片文件已损坏或格式不对 / damaged picture, or not the format its name says"
        ) from None
    return _assemble(_ocr_images(exe, images, dpi, name), name)
