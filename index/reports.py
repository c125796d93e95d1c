"""Ingest reports kept beside the index, for whoever asks later "what did the last update do?".

    DIR.reports/ingest-YYYYmmdd-HHMMSS.json   the full report (IngestReport.to_dict())
    DIR.reports/ingest-YYYYmmdd-HHMMSS.md     the same, short, for people
    DIR.reports/latest.json, latest.md        copies of the newest (plain files, not links:
                                              they survive copying and work on Windows)

Every run is saved, including "nothing changed" (that is an answer too); the
oldest are pruned beyond KEEP_REPORTS runs.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

KEEP_REPORTS = 30
# Each file's status in the report, in Chinese.
STATUS_CN = {
    "added": "新增",
    "updated": "已更新",
    "unchanged": "未变",
    "kept": "保留",
    "removed": "已移除",
    "duplicate": "重复跳过",
    "failed": "失败",
    "unavailable": "暂不可读（保留）",
    "skipped": "不支持（跳过）",
}
_PREFIX = "ingest-"


def reports_dir_for(index_dir: str | Path) -> Path:
    index_dir = Path(index_dir)
    return index_dir.with_name(index_dir.name + ".reports")


def save_report(report, keep: int = KEEP_REPORTS) -> Path:
    """Write the report (an index.build.IngestReport) as JSON and Markdown; returns the JSON
    path."""
    folder = reports_dir_for(report.index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    started = datetime.fromisoformat(report.started_at) if report.started_at else datetime.now()
    stem = f"{_PREFIX}{started:%Y%m%d-%H%M%S}"
    n = 1
    while (folder / f"{stem}.json").exists():  # two runs within one second
        n += 1
        stem = f"{_PREFIX}{started:%Y%m%d-%H%M%S}-{n}"
    json_path = folder / f"{stem}.json"
    report.saved_to = str(json_path)
    data = json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n"
    text = format_markdown(report)
    for path, content in (
        (json_path, data),
        (folder / f"{stem}.md", text),
        (folder / "latest.json", data),
        (folder / "latest.md", text),
    ):
        _write_replacing(path, content)
    prune_reports(folder, keep)
    return json_path


def list_reports(folder: Path) -> list[Path]:
    """Saved JSON reports, oldest first."""
    found = [p for p in folder.glob(f"{_PREFIX}*.json")]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))


def prune_reports(folder: Path, keep: int) -> None:
    reports = list_reports(folder)
    for old in reports[: max(0, len(reports) - keep)]:
        old.unlink(missing_ok=True)
        old.with_suffix(".md").unlink(missing_ok=True)


def format_markdown(report) -> str:
    counts = "，".join(f"{STATUS_CN.get(k, k)} {v}" for k, v in report.counts.items()) or "无文件"
    state = "已更新" if report.changed else "无变化，未重建"
    lines = [
        "# 导入报告 · Ingest report",
        "",
        f"- 索引 index: `{report.index_dir}`",
        f"- 开始 started: {report.started_at}，用时 total {report.seconds:.1f} s",
        f"- 结果 result: {counts}。索引{state}：{report.total_bulletins} 期简报 bulletins，"
        f"{report.total_chunks} 个片段 chunks，新向量化 embedded {report.embedded}"
        f"（句子 sentences {report.sentences_embedded}）",
        f"- 时间 time: 解析 parse {report.parse_seconds:.2f} s · 模型加载 model load "
        f"{report.model_load_seconds:.2f} s · "
        f"向量化 embedding {report.embed_seconds:.2f} s · 写入索引 index write "
        f"{report.index_write_seconds:.2f} s · "
        f"等待锁 lock wait {report.lock_wait_seconds:.1f} s",
    ]
    if report.embedder:
        lines.append(f"- 向量模型 embedder: `{report.embedder}`")
    if report.engine == "ray" and report.cluster:
        c = report.cluster
        stages = " · ".join(f"{k} {v:.2f} s" for k, v in report.stage_seconds.items())
        lines.append(
            f"- 引擎 engine: Ray `{c['address']}`，{c['nodes']} 节点 nodes，{c['cpus']:g} CPU，"
            f"{c['gpus']:g} GPU，{c['actors']} actors × batch {c['batch_size']}；{stages}"
        )
    for note in report.recovered:
        lines.append(f"- 清理 tidied: {note}")
    for note in report.repaired:
        lines.append(f"- 已修复 repaired: {note}")
    lines += [
        "",
        "| 状态 status | 条目 items | 片段 chunks | 秒 s | 文件 file | 原因 reason |",
        "|---|---:|---:|---:|---|---|",
    ]
    for f in report.files:
        cells = [
            STATUS_CN.get(f.status, f.status),
            str(f.items),
            str(f.chunks),
            f"{f.seconds:.2f}",
            f"`{f.path}`",
            "；".join(filter(None, [f.reason, *(f"注意 note: {w}" for w in f.warnings)])),
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _write_replacing(path: Path, content: str) -> None:
    """Readers (the web app showing the latest report) never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)
