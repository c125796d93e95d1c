"""Build a distractor corpus (BEIR corpus.jsonl) from Chinese manual pages.

    apt-get install manpages-zh groff-base
    python -m eval.manpage_distractors /tmp/manzh --passages 1000
    python -m eval --distractors /tmp/manzh

Real Chinese prose written by others, on another subject: it tests whether bulletin answers
survive a larger archive where many passages share common words (设置, 文件, 工作, 系统 …).
It is not a stand-in for more bulletins: in-domain distractors would be harder.
Passages are paragraphs of one page packed up to 500 characters; a paragraph needs 20 Chinese
characters to count (option tables are left out). Pages are taken in a fixed shuffled order.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
from pathlib import Path

MAN_DIR = Path("/usr/share/man/zh_CN")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def render(page: Path) -> str:
    """A gzipped man page as plain UTF-8 text (groff's preprocessor reads the UTF-8 source)."""
    source = gzip.decompress(page.read_bytes())
    result = subprocess.run(
        ["groff", "-k", "-Kutf8", "-Tutf8", "-man", "-P-c"],
        input=source,
        capture_output=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8", errors="replace")


def passages(text: str, size: int = 500) -> list[str]:
    paragraphs = [re.sub(r"[ \t]+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    out, buffer = [], ""
    for paragraph in (p for p in paragraphs if len(_HAN.findall(p)) >= 20):
        if buffer and len(buffer) + len(paragraph) > size:
            out.append(buffer.strip())
            buffer = ""
        buffer += paragraph + "\n"
    if buffer.strip():
        out.append(buffer.strip())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.manpage_distractors", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out", help="folder to write corpus.jsonl into")
    parser.add_argument(
        "--man-dir", default=str(MAN_DIR), help=f"Chinese man pages (default {MAN_DIR})"
    )
    parser.add_argument(
        "--passages", type=int, default=1000, help="how many passages (default 1000)"
    )
    args = parser.parse_args(argv)
    pages = sorted(Path(args.man_dir).glob("man*/*.gz"))
    if not pages:
        print(
            f"错误 / error: no man pages in {args.man_dir} "
            "(apt-get install manpages-zh groff-base)",
            file=sys.stderr,
        )
        return 2
    random.Random(7).shuffle(pages)
    rows = []
    for page in pages:
        name = page.name.removesuffix(".gz")
        rows += [
            {"_id": f"man-{len(rows) + i}", "title": name, "text": text}
            for i, text in enumerate(passages(render(page)))
        ]
        if len(rows) >= args.passages:
            break
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows[: args.passages]:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{min(len(rows), args.passages)} passages from {args.man_dir} -> {out / 'corpus.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
