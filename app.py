"""The bulletin assistant's main job.

Until the web chat lands (issue 4) this is an interactive search prompt over
the index: type a question, get the cited passages. `make run` builds the
index from the bundled bulletins first when there is none.
"""
from __future__ import annotations

import argparse
import sys

from index.embedders import EmbedderError
from index.engine import DEFAULT_MODE, MODES, SearchEngine, result_dict
from index.search import format_text
from index.store import IndexError_


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description="简报助手：输入问题，查看引用的原文段落。")
    parser.add_argument("--index", metavar="DIR", help="index folder (default data/index or $BULLETIN_INDEX_DIR)")
    parser.add_argument("-k", type=int, default=5, help="passages per answer")
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE)
    args = parser.parse_args(argv)
    try:
        engine = SearchEngine.open(args.index)
    except (IndexError_, EmbedderError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    counts = engine.manifest["counts"]
    print(f"简报助手 · 已收录 {counts['bulletins']} 期简报、{counts['chunks']} 个段落。输入问题后回车；空行或 Ctrl-D 退出。")
    while True:
        try:
            query = input("\n问题> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not query:
            return 0
        hits = engine.search(query[:500], args.k, args.mode)
        print(format_text(query, [result_dict(h, i) for i, h in enumerate(hits, 1)]))


if __name__ == "__main__":
    sys.exit(main())
