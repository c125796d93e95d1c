"""OCR engines on scanned copies of the bundled bulletins: character accuracy and seconds a page.

    python bench/bench_ocr.py [--bulletins 000,002] [--pages 2] [--engines tesseract-psm6,rapidocr]

A scanned copy is made the way a bulletin office makes one: the bulletin's TXT is
laid out as a PDF (tests/sample_documents.py write_pdf: STSong, ~30 characters a
line, running header, "- n -" footer), each page is rasterised with pypdfium2 at the
scan resolution, optionally degraded like a cheap scanner (0.6° skew, blur, grain,
JPEG), and the pictures are saved as an image-only PDF. That PDF is then rendered
again at the OCR resolution, exactly as ingest/formats/ocr.py does, and given to
each engine.

Accuracy = 1 - edit distance / reference length, over the text without whitespace;
the reference is every line printed on the page (header, body, page number). Both
engines' output goes through the same clean-up (ingest.formats.ocr.tidy_ocr_text);
"raw" is the accuracy before it. Seconds are wall time for one page in one process
(median over pages; each engine's first call, which loads its model, is timed apart).

Engines: tesseract-psm6 / -psm3 (Debian's `tesseract` 5, chi_sim model, page
segmentation mode 6 "one block" or 3 "automatic", OMP_THREAD_LIMIT=1; -psm6-eng adds
the English model, -psm6-2threads lets OpenMP use both cores), rapidocr
(rapidocr-onnxruntime 1.4, PP-OCRv4 models inside the wheel) and rapidocr3 (rapidocr
3.x, PP-OCRv6 small models inside the wheel); both PP-OCR engines use all cores.
An engine whose package is missing is listed under "unavailable". To include the
PP-OCR ones, run it with a Python that has them, e.g.
    python3 -m venv /tmp/ocrvenv
    /tmp/ocrvenv/bin/pip install rapidocr-onnxruntime==1.4.4 rapidocr==3.10.0
    /tmp/ocrvenv/bin/pip install pypdfium2 reportlab pillow
    PYTHONPATH=. /tmp/ocrvenv/bin/python bench/bench_ocr.py
Prints JSON; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ingest.formats.ocr import tidy_ocr_text
from ingest.paths import SAMPLE_BULLETINS as CORPUS

_SPACE = re.compile(r"\s+")
# (name, scan dpi, degraded, OCR render dpi)
VARIANTS = [
    ("clean-300", 300, False, 300),
    ("clean-200", 200, False, 200),
    ("scanner-300", 300, True, 300),
    ("scanner-200", 200, True, 200),
    ("scanner-200-read-300", 200, True, 300),
    # The scan's resolution is the scanner's; the resolution a scanned PDF is rendered at for OCR
    # is ours.
    ("clean-300-read-200", 300, False, 200),
    ("scanner-300-read-200", 300, True, 200),
    ("scanner-300-read-150", 300, True, 150),
]


# -- making a scanned copy (also used by tests/test_ocr.py) ----------------------


def printed_pages(txt: Path, out_dir: Path) -> tuple[Path, list[list[str]]]:
    """The bulletin as a PDF with a text layer, and every line printed on each page."""
    import sample_documents as docs

    pdf = out_dir / f"{txt.stem}.text.pdf"
    layout = docs.write_pdf(docs.original_lines(txt), pdf)
    pages = []
    for number, body in enumerate(layout.pages, 1):
        header = [docs.RUNNING_HEADER] if number > 1 else []
        pages.append(header + body + [f"- {number} -"])
    return pdf, pages


def rasterise(pdf: Path, dpi: int, pages: int | None = None) -> list:
    """Grey PIL pictures of the first `pages` pages."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        count = len(document) if pages is None else min(pages, len(document))
        return [document[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(count)]
    finally:
        document.close()


def degrade(image, seed: int = 0):
    """A cheap office scanner: slightly skewed, soft, grainy, JPEG-compressed."""
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    image = image.rotate(0.6, resample=Image.BICUBIC, expand=False, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(0.7))
    pixels = np.asarray(image, dtype=np.float32) * 0.92 + 10  # greyish paper, less contrast
    pixels += rng.normal(0, 10, pixels.shape)
    specks = rng.random(pixels.shape) < 0.0004
    pixels[specks] = 40
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=60)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def image_only_pdf(images: list, out: Path, dpi: int) -> Path:
    """A PDF whose pages are only pictures, as a scanner saves them (no text layer)."""
    images[0].save(out, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out


def make_scan(
    txt: Path, out_dir: Path, *, dpi: int = 300, pages: int | None = None, degraded: bool = False
) -> tuple[Path, list, list[list[str]]]:
    """(image-only PDF, its page pictures, printed lines of those pages) for a bundled bulletin."""
    text_pdf, printed = printed_pages(txt, out_dir)
    images = rasterise(text_pdf, dpi, pages)
    if degraded:
        images = [degrade(image, seed) for seed, image in enumerate(images)]
    suffix = "scan" if degraded else "clean"
    return (
        image_only_pdf(images, out_dir / f"{txt.stem}.{suffix}{dpi}.pdf", dpi),
        images,
        printed[: len(images)],
    )


# -- measuring ---------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def char_accuracy(reference: str, hypothesis: str) -> float:
    """1 - edit distance / reference length, whitespace ignored (may go below 0 for garbage)."""
    ref, hyp = _SPACE.sub("", reference), _SPACE.sub("", hypothesis)
    return 1 - edit_distance(ref, hyp) / max(1, len(ref))


def tesseract_engine(psm: str, lang: str = "chi_sim", threads: int | None = 1):
    def run(image, dpi: int) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "page.png"
            image.save(path, compress_level=1)
            env = dict(os.environ)
            if threads:
                env["OMP_THREAD_LIMIT"] = str(threads)
            done = subprocess.run(
                ["tesseract", str(path), "stdout", "-l", lang, "--psm", psm, "--dpi", str(dpi)],
                capture_output=True,
                env=env,
                check=True,
            )
            return done.stdout.decode("utf-8", "replace")

    return run


def rapidocr_engine():
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def run(image, dpi: int) -> str:
        result, _ = engine(np.asarray(image.convert("RGB")))
        return "\n".join(boxes_to_lines(result or []))

    return run


def rapidocr3_engine():
    """rapidocr 3.x (the maintained line): PP-OCRv6 small models, also inside its wheel."""
    import numpy as np
    from rapidocr import RapidOCR

    engine = RapidOCR()

    def run(image, dpi: int) -> str:
        out = engine(np.asarray(image.convert("RGB")))
        if not out.txts:
            return ""
        return "\n".join(
            boxes_to_lines(
                [
                    (box.tolist(), text, score)
                    for box, text, score in zip(out.boxes, out.txts, out.scores)
                ]
            )
        )

    return run


def boxes_to_lines(result) -> list[str]:
    """PP-OCR gives text boxes; a printed line is the boxes whose middles sit at one height."""
    boxes = []
    for box, text, _score in result:
        ys, xs = [p[1] for p in box], [p[0] for p in box]
        boxes.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), text))
    boxes.sort()
    lines: list[list[tuple]] = []
    for box in boxes:
        if lines and abs(box[0] - lines[-1][0][0]) < 0.5 * max(box[1], lines[-1][0][1]):
            lines[-1].append(box)
        else:
            lines.append([box])
    return [" ".join(b[3] for b in sorted(line, key=lambda b: b[2])) for line in lines]


ENGINES = {
    "tesseract-psm6": lambda: tesseract_engine("6"),
    "tesseract-psm3": lambda: tesseract_engine("3"),
    "tesseract-psm6-eng": lambda: tesseract_engine("6", "chi_sim+eng"),
    "tesseract-psm6-2threads": lambda: tesseract_engine("6", threads=None),
    "rapidocr": rapidocr_engine,
    "rapidocr3": rapidocr3_engine,
}


def versions() -> dict:
    out = {"cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        out["tesseract"] = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True
        ).stdout.split("\n")[0]
    except OSError:
        out["tesseract"] = None
    from importlib.metadata import PackageNotFoundError, version

    for package in ("rapidocr-onnxruntime", "rapidocr", "onnxruntime"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bulletins", default="000,002", help="prefixes of data/bulletins/*.txt")
    parser.add_argument("--pages", type=int, default=2, help="pages of each bulletin")
    parser.add_argument(
        "--engines",
        default="tesseract-psm6,tesseract-psm3,rapidocr,rapidocr3",
        help=f"of {','.join(ENGINES)}",
    )
    parser.add_argument("--variants", default=",".join(v[0] for v in VARIANTS))
    args = parser.parse_args()

    engines = {}
    unavailable = {}
    for name in args.engines.split(","):
        try:
            engines[name] = ENGINES[name]()
        except Exception as exc:  # not installed in this Python
            unavailable[name] = f"{type(exc).__name__}: {exc}"
    txts = [next(CORPUS.glob(f"{prefix}*.txt")) for prefix in args.bulletins.split(",")]
    wanted = set(args.variants.split(","))
    rows = []
    warm_up = {}
    with tempfile.TemporaryDirectory() as tmp:
        # First call, not timed with the rest: loads models (PP-OCR's first inference is slow).
        _, pictures, _ = make_scan(txts[0], Path(tmp), dpi=300, pages=1)
        for name, run in engines.items():
            started = time.perf_counter()
            run(pictures[0], 300)
            warm_up[name] = round(time.perf_counter() - started, 2)
        for variant, scan_dpi, degraded, ocr_dpi in VARIANTS:
            if variant not in wanted:
                continue
            for txt in txts:
                folder = Path(tmp) / variant
                folder.mkdir(exist_ok=True)
                scan, _, printed = make_scan(
                    txt, folder, dpi=scan_dpi, pages=args.pages, degraded=degraded
                )
                pictures = rasterise(scan, ocr_dpi)  # what ingest/formats/ocr.py gives the engine
                for number, (picture, lines) in enumerate(zip(pictures, printed), 1):
                    reference = "".join(lines)
                    for name, run in engines.items():
                        started = time.perf_counter()
                        raw = run(picture, ocr_dpi)
                        seconds = time.perf_counter() - started
                        rows.append(
                            {
                                "engine": name,
                                "variant": variant,
                                "bulletin": txt.stem[:3],
                                "page": number,
                                "seconds": round(seconds, 2),
                                "accuracy": round(char_accuracy(reference, tidy_ocr_text(raw)), 4),
                                "raw_accuracy": round(char_accuracy(reference, raw), 4),
                                "chars": len(_SPACE.sub("", reference)),
                            }
                        )
                        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    summary = []
    for name in engines:
        for variant, *_ in VARIANTS:
            mine = [r for r in rows if r["engine"] == name and r["variant"] == variant]
            if not mine:
                continue
            chars = sum(r["chars"] for r in mine)
            summary.append(
                {
                    "engine": name,
                    "variant": variant,
                    "pages": len(mine),
                    "accuracy": round(
                        sum(r["accuracy"] * r["chars"] for r in mine) / chars, 4
                    ),  # character-weighted
                    "worst_page": min(r["accuracy"] for r in mine),
                    "raw_accuracy": round(
                        sum(r["raw_accuracy"] * r["chars"] for r in mine) / chars, 4
                    ),
                    "seconds_per_page": round(
                        statistics.median(r["seconds"] for r in mine), 2
                    ),  # median: the machine is shared
                    "seconds_max": max(r["seconds"] for r in mine),
                }
            )
    print(
        json.dumps(
            {
                "command": " ".join([Path(sys.executable).name, *sys.argv]),
                "machine": versions(),
                "summary": summary,
                "first_call_seconds": warm_up,
                "unavailable": unavailable,
                "pages": rows,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
